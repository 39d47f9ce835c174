// SPDX-License-Identifier: GPL-3.0-or-later
// Measures the latency of new TCP connections: `serve PORT...` accepts and closes on each port;
// `connect ADDR PORT COUNT` opens COUNT fresh connections one after another and prints the
// median and the 90th percentile of connect() in microseconds. Each connection is new to
// conntrack, so every SYN walks the nat prerouting chain: that is the per-packet cost of the
// ruleset that the benchmark compares.
#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

int serve(int argc, char **argv) {
    std::vector<pollfd> fds;
    for (int i = 0; i < argc; ++i) {
        int fd = socket(AF_INET6, SOCK_STREAM, 0);
        int off = 0, on = 1;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(std::atoi(argv[i]));
        if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) || listen(fd, 4096)) {
            std::perror("bind/listen");
            return 1;
        }
        fds.push_back({fd, POLLIN, 0});
    }
    for (;;) {
        if (poll(fds.data(), fds.size(), -1) < 0)
            return 1;
        for (auto &p : fds)
            if (p.revents & POLLIN) {
                int c = accept(p.fd, nullptr, nullptr);
                if (c >= 0)
                    close(c);
            }
    }
}

int connectLoop(const char *addr, int port, int count) {
    sockaddr_in6 a6{};
    sockaddr_in a4{};
    sockaddr *sa;
    socklen_t len;
    int family;
    if (inet_pton(AF_INET, addr, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons(port);
        sa = reinterpret_cast<sockaddr *>(&a4);
        len = sizeof a4;
        family = AF_INET;
    } else if (inet_pton(AF_INET6, addr, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons(port);
        sa = reinterpret_cast<sockaddr *>(&a6);
        len = sizeof a6;
        family = AF_INET6;
    } else {
        std::fprintf(stderr, "not an address: %s\n", addr);
        return 2;
    }
    std::vector<double> us;
    us.reserve(count);
    int failures = 0;
    for (int i = 0; i < count; ++i) {
        int fd = socket(family, SOCK_STREAM, 0);
        // Close with a reset, so that no TIME_WAIT state piles up on the client.
        linger l{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        timeval tv{2, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        auto t0 = std::chrono::steady_clock::now();
        int r = connect(fd, sa, len);
        auto t1 = std::chrono::steady_clock::now();
        close(fd);
        if (r != 0) {
            ++failures;
            continue;
        }
        us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    if (us.empty()) {
        std::fprintf(stderr, "no connection succeeded (%d failures)\n", failures);
        return 1;
    }
    std::sort(us.begin(), us.end());
    std::printf("{\"count\": %zu, \"failures\": %d, \"median_us\": %.1f, \"p90_us\": %.1f}\n",
                us.size(), failures, us[us.size() / 2], us[us.size() * 9 / 10]);
    return failures ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
    if (argc >= 3 && std::strcmp(argv[1], "serve") == 0)
        return serve(argc - 2, argv + 2);
    if (argc == 5 && std::strcmp(argv[1], "connect") == 0)
        return connectLoop(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
    std::fprintf(stderr, "usage: connect_latency serve PORT... | connect ADDR PORT COUNT\n");
    return 2;
}
