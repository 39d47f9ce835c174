// SPDX-License-Identifier: GPL-3.0-or-later
// conntrack_events: counts ctnetlink NEW events on one socket with a given receive buffer, read
// as fast as possible (one recvmmsg per 64 events, parsed by libnetfilter_conntrack as the
// helper does), until the table has stopped changing for --quiet ms. Prints one JSON line with
// the events seen and the overruns (ENOBUFS), for bench/conntrack_bench.py: what a default
// buffer loses against the helper's 8 MiB one.
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <vector>

int main(int argc, char **argv) {
    int buffer = 0; // 0: the default (net.core.rmem_default)
    int quietMs = 1500;
    for (int i = 1; i + 1 < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--buffer")
            buffer = std::atoi(argv[++i]);
        else if (a == "--quiet")
            quietMs = std::atoi(argv[++i]);
    }
    mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK);
    if (!nl || mnl_socket_bind(nl, NF_NETLINK_CONNTRACK_NEW, MNL_SOCKET_AUTOPID) < 0) {
        std::perror("conntrack_events");
        return 1;
    }
    const int fd = mnl_socket_get_fd(nl);
    if (buffer > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
    int actual = 0;
    socklen_t len = sizeof actual;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &actual, &len);
    std::fprintf(stderr, "conntrack_events: listening\n"); // the driver starts the flood now

    constexpr int batch = 64, size = 4096;
    std::vector<char> bufs(batch * size);
    mmsghdr msgs[batch];
    iovec iov[batch];
    unsigned long events = 0, overruns = 0;
    bool started = false;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        const int r = poll(&p, 1, started ? quietMs : 60000);
        if (r == 0)
            break;
        for (int i = 0; i < batch; ++i) {
            iov[i] = {bufs.data() + i * size, size};
            std::memset(&msgs[i], 0, sizeof msgs[i]);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = recvmmsg(fd, msgs, batch, MSG_DONTWAIT, nullptr);
        if (n < 0) {
            if (errno == ENOBUFS)
                ++overruns;
            continue;
        }
        started = true;
        for (int i = 0; i < n; ++i) {
            int left = int(msgs[i].msg_len);
            for (auto *h = reinterpret_cast<nlmsghdr *>(iov[i].iov_base); mnl_nlmsg_ok(h, left);
                 h = mnl_nlmsg_next(h, &left)) {
                nf_conntrack *ct = nfct_new();
                if (nfct_nlmsg_parse(h, ct) >= 0)
                    ++events;
                nfct_destroy(ct);
            }
        }
    }
    std::printf("{\"buffer\": %d, \"events\": %lu, \"overruns\": %lu}\n", actual, events, overruns);
    mnl_socket_close(nl);
    return 0;
}
