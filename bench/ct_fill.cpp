// SPDX-License-Identifier: GPL-3.0-or-later
// ct_fill: puts N made-up conntrack entries into the current network namespace, fast, for the
// conntrack tests, the cross-check against `conntrack -L` and the benchmarks. Many
// IPCTNL_MSG_CT_NEW messages go into one netlink send (the kernel handles them in order), and
// only the last of each send asks for an ACK, so a million entries cost a few seconds, not
// a million round trips. Documentation addresses only; some entries carry a forward's mark and
// a DNATed reply tuple, like flows through a forward.
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
    unsigned long count = 1000;
    unsigned long start = 0;     // index of the first entry, so that runs can add to a table
    unsigned long markEvery = 0; // every Nth entry carries a mark (0: none)
    std::vector<unsigned> marks; // the marks, in turn
    unsigned timeout = 600;      // seconds
    double rate = 0;             // entries per second, 0: as fast as possible
    int family = 4;              // 4, 6 or 46 (alternating)
    int proto = 0;               // 0: tcp and udp alternating, else IPPROTO_TCP / IPPROTO_UDP
    bool quiet = false;
};

void usage() {
    std::fputs(
        "usage: ct_fill [--count N] [--start K] [--mark M[,M...]] [--mark-every N]\n"
        "               [--timeout S] [--rate PER_SECOND] [--family 4|6|46] [--proto "
        "tcp|udp|both]\n"
        "               [--quiet]\n"
        "Inserts N conntrack entries into the current network namespace (documentation\n"
        "addresses: 203.0.113.0/24 -> 203.0.113.1, marked ones DNATed to 198.51.100.10;\n"
        "IPv6: 2001:db8:1::/64 -> 2001:db8:1::1, DNATed to 2001:db8:2::10).\n"
        "Entry i is unique for i < 16 million. Prints how many were made and how long it took.\n",
        stderr);
}

bool parseNumber(const char *text, unsigned long *out) {
    char *end = nullptr;
    errno = 0;
    const unsigned long v = std::strtoul(text, &end, 10);
    if (errno || end == text || *end)
        return false;
    *out = v;
    return true;
}

// The tuples of entry i: source address and port vary first, then the destination port.
struct Tuple {
    unsigned srcHost; // 2..251
    unsigned srcPort; // 1024..65023
    unsigned dstPort; // 10000..
};

Tuple tupleOf(unsigned long i) {
    Tuple t;
    t.srcHost = 2 + unsigned(i % 250);
    t.srcPort = 1024 + unsigned((i / 250) % 64000);
    t.dstPort = 10000 + unsigned(i / (250ul * 64000ul));
    return t;
}

void setAddress(nf_conntrack *ct, int family, bool source, bool reply, const char *prefix4,
                const char *prefix6, unsigned host) {
    if (family == AF_INET) {
        char text[32];
        std::snprintf(text, sizeof text, "%s%u", prefix4, host);
        in_addr a;
        inet_pton(AF_INET, text, &a);
        const auto attr = reply ? (source ? ATTR_REPL_IPV4_SRC : ATTR_REPL_IPV4_DST)
                                : (source ? ATTR_ORIG_IPV4_SRC : ATTR_ORIG_IPV4_DST);
        nfct_set_attr_u32(ct, attr, a.s_addr);
    } else {
        char text[64];
        std::snprintf(text, sizeof text, "%s%x", prefix6, host);
        in6_addr a;
        inet_pton(AF_INET6, text, &a);
        const auto attr = reply ? (source ? ATTR_REPL_IPV6_SRC : ATTR_REPL_IPV6_DST)
                                : (source ? ATTR_ORIG_IPV6_SRC : ATTR_ORIG_IPV6_DST);
        nfct_set_attr(ct, attr, &a);
    }
}

// Fills `ct` with entry i; every markEvery-th one is "forwarded" (marked, DNATed).
void buildEntry(nf_conntrack *ct, const Options &o, unsigned long i) {
    const Tuple t = tupleOf(i);
    const int family = o.family == 4   ? AF_INET
                       : o.family == 6 ? AF_INET6
                                       : (i % 2 ? AF_INET6 : AF_INET);
    const int proto = o.proto ? o.proto : ((i / 2) % 2 ? IPPROTO_UDP : IPPROTO_TCP);
    const bool marked = o.markEvery && !o.marks.empty() && i % o.markEvery == 0;

    nfct_set_attr_u8(ct, ATTR_L3PROTO, family);
    nfct_set_attr_u8(ct, ATTR_L4PROTO, proto);
    nfct_set_attr_u8(ct, ATTR_REPL_L3PROTO, family);
    nfct_set_attr_u8(ct, ATTR_REPL_L4PROTO, proto);
    setAddress(ct, family, true, false, "203.0.113.", "2001:db8:1::", t.srcHost);
    setAddress(ct, family, false, false, "203.0.113.", "2001:db8:1::", 1);
    nfct_set_attr_u16(ct, ATTR_ORIG_PORT_SRC, htons(t.srcPort));
    nfct_set_attr_u16(ct, ATTR_ORIG_PORT_DST, htons(t.dstPort));
    // The reply comes from where the flow went: the forward's target for a marked one.
    if (marked) {
        setAddress(ct, family, true, true, "198.51.100.", "2001:db8:2::", 10);
        nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, htons(8080));
    } else {
        setAddress(ct, family, true, true, "203.0.113.", "2001:db8:1::", 1);
        nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, htons(t.dstPort));
    }
    setAddress(ct, family, false, true, "203.0.113.", "2001:db8:1::", t.srcHost);
    nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, htons(t.srcPort));

    if (proto == IPPROTO_TCP)
        nfct_set_attr_u8(ct, ATTR_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
    nfct_set_attr_u32(ct, ATTR_TIMEOUT, o.timeout);
    nfct_set_attr_u32(ct, ATTR_STATUS, IPS_SEEN_REPLY | IPS_ASSURED);
    if (marked)
        nfct_set_attr_u32(ct, ATTR_MARK, o.marks[(i / o.markEvery) % o.marks.size()]);
}

} // namespace

int main(int argc, char **argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> const char * {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "ct_fill: %s needs a value\n", arg.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        unsigned long n = 0;
        if (arg == "--count" && parseNumber(value(), &n))
            o.count = n;
        else if (arg == "--start" && parseNumber(value(), &n))
            o.start = n;
        else if (arg == "--mark-every" && parseNumber(value(), &n))
            o.markEvery = n;
        else if (arg == "--timeout" && parseNumber(value(), &n) && n > 0 && n < (1ul << 31))
            o.timeout = unsigned(n);
        else if (arg == "--rate" && parseNumber(value(), &n))
            o.rate = double(n);
        else if (arg == "--family") {
            const std::string f = value();
            if (f != "4" && f != "6" && f != "46") {
                usage();
                return 2;
            }
            o.family = std::stoi(f);
        } else if (arg == "--proto") {
            const std::string p = value();
            if (p == "tcp")
                o.proto = IPPROTO_TCP;
            else if (p == "udp")
                o.proto = IPPROTO_UDP;
            else if (p == "both")
                o.proto = 0;
            else {
                usage();
                return 2;
            }
        } else if (arg == "--mark") {
            std::string list = value();
            size_t pos = 0;
            while (pos <= list.size()) {
                const size_t comma = list.find(',', pos);
                const std::string part =
                    list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
                if (!parseNumber(part.c_str(), &n) || n == 0 || n > 0xffffffffu) {
                    usage();
                    return 2;
                }
                o.marks.push_back(unsigned(n));
                if (comma == std::string::npos)
                    break;
                pos = comma + 1;
            }
        } else if (arg == "--quiet")
            o.quiet = true;
        else if (arg == "--help" || arg == "-h") {
            usage();
            return 0;
        } else {
            usage();
            return 2;
        }
    }
    if (!o.marks.empty() && o.markEvery == 0)
        o.markEvery = 1;
    if (o.start + o.count > 250ul * 64000ul * 256ul) {
        std::fputs("ct_fill: at most 16 million distinct entries\n", stderr);
        return 2;
    }

    mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        std::perror("ct_fill: netlink socket");
        return 1;
    }
    int rcv = 4 << 20;
    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
    const unsigned portid = mnl_socket_get_portid(nl);

    // About 150 bytes per message: 64 KiB holds a few hundred, one send and one ACK for them.
    constexpr size_t sendSize = 64 * 1024;
    constexpr size_t msgRoom = 512;
    std::vector<char> buf(sendSize + msgRoom);
    std::vector<char> rbuf(MNL_SOCKET_BUFFER_SIZE * 4);

    unsigned long made = 0, failed = 0;
    int firstError = 0;
    unsigned seq = 1;
    const auto begin = std::chrono::steady_clock::now();
    unsigned long i = o.start;
    const unsigned long end = o.start + o.count;
    while (i < end) {
        size_t used = 0;
        nlmsghdr *last = nullptr;
        const unsigned long chunkStart = i;
        while (i < end && used + msgRoom <= sendSize) {
            nlmsghdr *nlh = mnl_nlmsg_put_header(buf.data() + used);
            nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
            nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
            nlh->nlmsg_seq = seq++;
            nfgenmsg *nfg = static_cast<nfgenmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof *nfg));
            const bool v6 = o.family == 6 || (o.family == 46 && i % 2);
            nfg->nfgen_family = v6 ? AF_INET6 : AF_INET;
            nfg->version = NFNETLINK_V0;
            nfg->res_id = 0;
            // A fresh object each time: attributes of the last entry (a mark, the other
            // family's addresses) must not carry over.
            nf_conntrack *ct = nfct_new();
            buildEntry(ct, o, i);
            const int built = nfct_nlmsg_build(nlh, ct);
            nfct_destroy(ct);
            if (built < 0) {
                std::perror("ct_fill: building a message");
                return 1;
            }
            used += NLMSG_ALIGN(nlh->nlmsg_len);
            last = nlh;
            ++i;
        }
        last->nlmsg_flags |= NLM_F_ACK;
        const unsigned lastSeq = last->nlmsg_seq;
        if (mnl_socket_sendto(nl, buf.data(), used) < 0) {
            std::perror("ct_fill: send");
            return 1;
        }
        // Errors of earlier messages come first, then the ACK (or error) of the last one.
        unsigned long errors = 0;
        bool done = false;
        while (!done) {
            const ssize_t n = mnl_socket_recvfrom(nl, rbuf.data(), rbuf.size());
            if (n < 0) {
                std::perror("ct_fill: receive");
                return 1;
            }
            int left = int(n);
            for (nlmsghdr *h = reinterpret_cast<nlmsghdr *>(rbuf.data()); mnl_nlmsg_ok(h, left);
                 h = mnl_nlmsg_next(h, &left)) {
                if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_pid != portid)
                    continue;
                const auto *e = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(h));
                if (e->error) {
                    ++errors;
                    if (!firstError)
                        firstError = -e->error;
                }
                if (h->nlmsg_seq == lastSeq)
                    done = true;
            }
        }
        made += (i - chunkStart) - errors;
        failed += errors;
        if (o.rate > 0) {
            const auto due = begin + std::chrono::duration<double>(double(i - o.start) / o.rate);
            std::this_thread::sleep_until(due);
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    mnl_socket_close(nl);
    if (!o.quiet || failed)
        std::fprintf(stderr, "ct_fill: %lu entries made, %lu refused%s%s in %.2f s (%.0f/s)\n",
                     made, failed, failed ? ": " : "", failed ? std::strerror(firstError) : "",
                     seconds, seconds > 0 ? double(made) / seconds : 0.0);
    return failed ? 1 : 0;
}
