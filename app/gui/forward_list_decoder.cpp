// SPDX-License-Identifier: GPL-3.0-or-later
// Streaming decode of aa{sv}t: one QVariantMap alive at a time.
#include "forward_list_decoder.h"

#include "serialization.h"

#include <QDBusArgument>

namespace portico {

HelperResult<ForwardList> decodeForwardListStreaming(const HelperClient &client,
                                                     const QDBusMessage &reply) {
    HelperResult<ForwardList> r;
    r.error = client.errorFromReply(reply);
    if (!r.ok())
        return r;
    const QVariantList args = reply.arguments();
    if (args.size() != 2 || reply.signature() != QLatin1StringView("aa{sv}t") ||
        !args.at(0).canConvert<QDBusArgument>()) {
        // Not the shape we stream: let the client's own decoder say what is wrong.
        return client.decodeListForwards(reply);
    }
    const QDBusArgument array = qvariant_cast<QDBusArgument>(args.at(0));
    array.beginArray();
    while (!array.atEnd()) {
        QVariantMap map;
        array >> map;
        Forward f;
        if (const ValidationError v = forwardFromVariantMap(map, &f); !v.ok()) {
            array.endArray();
            return client.decodeListForwards(reply); // names the bad forward the usual way
        }
        r.value.forwards.append(std::move(f));
    }
    array.endArray();
    r.value.generation = args.at(1).toULongLong();
    return r;
}

} // namespace portico
