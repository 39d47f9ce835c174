// SPDX-License-Identifier: GPL-3.0-or-later
// ListForwards' reply decoded one forward at a time. HelperClient::decodeListForwards builds
// every forward's a{sv} first, which at 10,000 forwards costs about 20 MB of heap at once; the
// GUI reads big sets at start-up, so it streams instead. Same checks, same errors.
#pragma once

#include "helper_client.h"

namespace portico {

HelperResult<ForwardList> decodeForwardListStreaming(const HelperClient &client,
                                                     const QDBusMessage &reply);

} // namespace portico
