// SPDX-License-Identifier: GPL-3.0-or-later
// One forward as iptables/ip6tables commands: DNAT (or REDIRECT), FORWARD accept, and the
// masquerade and hairpin rules, family by family and protocol by protocol.
#include "iptables_commands.h"

#include <QCoreApplication>

namespace portico {

namespace {

QString iptablesPorts(const PortRange &r) {
    return r.isRange() ? QStringLiteral("%1:%2").arg(r.first).arg(r.last)
                       : QString::number(r.first);
}

QString natPorts(const PortRange &r) {
    return r.isRange() ? QStringLiteral("%1-%2").arg(r.first).arg(r.last)
                       : QString::number(r.first);
}

} // namespace

QStringList iptablesCommands(const Forward &f, const QList<Cidr> &localNetworks) {
    QStringList out;
    if (f.externalPort.isNull())
        return out;
    if (!f.enabled)
        out << QCoreApplication::translate("portico::iptablesCommands",
                                           "# disabled: Portico keeps this forward out of the "
                                           "kernel");
    const PortRange target = f.targetPort.isNull() ? f.externalPort : f.targetPort;
    QList<QString> protos;
    if (f.protocol != Protocol::Udp)
        protos << QStringLiteral("tcp");
    if (f.protocol != Protocol::Tcp)
        protos << QStringLiteral("udp");

    struct Family {
        bool v6;
        QString tool;
    };
    QList<Family> families;
    if (f.appliesToIPv4())
        families.append({false, QStringLiteral("iptables")});
    if (f.appliesToIPv6())
        families.append({true, QStringLiteral("ip6tables")});

    for (const Family &fam : families) {
        QStringList sources;
        for (const Cidr &c : f.sources)
            if ((c.address.protocol() == QHostAddress::IPv6Protocol) == fam.v6)
                sources << c.toString();
        if (!f.sources.isEmpty() && sources.isEmpty())
            continue; // this family has no allowed client
        const QString srcArg = sources.isEmpty()
                                   ? QString()
                                   : QStringLiteral(" -s %1").arg(sources.join(QLatin1Char(',')));
        const QString inArg =
            f.interface.isEmpty() ? QString() : QStringLiteral(" -i %1").arg(f.interface);
        const QString dstArg = f.externalAddress.isNull()
                                   ? QStringLiteral(" -m addrtype --dst-type LOCAL")
                                   : QStringLiteral(" -d %1").arg(f.externalAddress.toString());
        QString to;
        if (!f.isLocalRedirect()) {
            const QString addr = fam.v6 ? QStringLiteral("[%1]").arg(f.targetAddress.toString())
                                        : f.targetAddress.toString();
            to = QStringLiteral(" -j DNAT --to-destination %1:%2").arg(addr, natPorts(target));
            // A range maps one to one only with a base port (iptables 1.8.6, Linux 5.13).
            if (target.isRange())
                to += QStringLiteral("/%1").arg(f.externalPort.first);
        } else {
            to = QStringLiteral(" -j REDIRECT --to-ports %1").arg(natPorts(target));
        }
        for (const QString &p : protos) {
            const QString match =
                QStringLiteral(" -p %1 --dport %2").arg(p, iptablesPorts(f.externalPort));
            out << QStringLiteral("%1 -t nat -A PREROUTING%2%3%4%5%6")
                       .arg(fam.tool, inArg, srcArg, dstArg, match, to);
            // Connections that the gateway itself opens go through OUTPUT, not PREROUTING.
            out << QStringLiteral("%1 -t nat -A OUTPUT%2%3%4%5")
                       .arg(fam.tool, srcArg, dstArg, match, to);
            if (f.isLocalRedirect())
                continue;
            const QString targetMatch =
                QStringLiteral(" -p %1 -d %2 --dport %3")
                    .arg(p, f.targetAddress.toString(), iptablesPorts(target));
            out << QStringLiteral("%1 -A FORWARD%2%3 -m conntrack --ctstate DNAT -j ACCEPT")
                       .arg(fam.tool, srcArg, targetMatch);
            if (f.masquerade)
                out << QStringLiteral("%1 -t nat -A POSTROUTING%2 -m conntrack --ctstate DNAT -j "
                                      "MASQUERADE")
                           .arg(fam.tool, targetMatch);
            if (f.hairpin && !f.interface.isEmpty()) {
                // Clients on the target's side, coming in on other interfaces.
                out << QStringLiteral("%1 -t nat -A PREROUTING ! -i %2%3%4%5%6")
                           .arg(fam.tool, f.interface, srcArg, dstArg, match, to);
            }
            if (f.hairpin && !f.masquerade) {
                // Replies must come back through the gateway, not straight from the target.
                const int hostBits =
                    f.targetAddress.protocol() == QHostAddress::IPv6Protocol ? 128 : 32;
                const Cidr target{f.targetAddress, hostBits};
                QString lan;
                for (const Cidr &n : localNetworks)
                    if (n.prefixLength < hostBits && n.contains(target))
                        lan = n.toString();
                out << (lan.isEmpty()
                            ? QStringLiteral("%1 -t nat -A POSTROUTING -s LAN_SUBNET%2 -m "
                                             "conntrack --ctstate DNAT -j MASQUERADE   %3")
                                  .arg(fam.tool, targetMatch,
                                       QCoreApplication::translate(
                                           "portico::iptablesCommands",
                                           "# LAN_SUBNET: the target's network"))
                            : QStringLiteral("%1 -t nat -A POSTROUTING -s %2%3 -m conntrack "
                                             "--ctstate DNAT -j MASQUERADE")
                                  .arg(fam.tool, lan, targetMatch));
            }
        }
        if (!f.isLocalRedirect())
            out << (fam.v6 ? QStringLiteral("sysctl -w net.ipv6.conf.all.forwarding=1")
                           : QStringLiteral("sysctl -w net.ipv4.ip_forward=1"));
    }
    return out;
}

} // namespace portico
