// SPDX-License-Identifier: GPL-3.0-or-later
// IPv4 and IPv6 forwarding of the helper's own network namespace, through /proc/sys.
#pragma once

#include <QString>

namespace portico {

struct IpForwarding {
    bool v4 = false;
    bool v6 = false;

    friend bool operator==(const IpForwarding &, const IpForwarding &) = default;
};

class IpForwardingSysctl {
public:
    // procSys is a root like "/proc/sys"; tests may point it elsewhere.
    explicit IpForwardingSysctl(const QString &procSys = QStringLiteral("/proc/sys"));

    // Both return an empty string on success, else a sentence naming the file and the reason.
    QString read(IpForwarding *out) const;
    QString write(const IpForwarding &value) const;

    QString v4Path() const;
    QString v6Path() const;

private:
    QString m_procSys;
};

} // namespace portico
