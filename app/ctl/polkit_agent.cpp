// SPDX-License-Identifier: GPL-3.0-or-later
// Spawns and reaps pkttyagent around a mutating porticoctl command.
#include "polkit_agent.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace portico::ctl {

namespace {
constexpr const char agentPath[] = "/usr/bin/pkttyagent";
}

TtyAgent::~TtyAgent() {
    stop();
}

void TtyAgent::start(const char *busAddress) {
    if (m_pid > 0 || geteuid() == 0 || !isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) ||
        access(agentPath, X_OK) != 0)
        return;

    // The read end is ours alone; the write end is inherited by the agent, which closes it once
    // it is registered. Everything the child needs is built before fork(): after it, only
    // async-signal-safe calls.
    int notify[2];
    if (pipe(notify) != 0)
        return;
    fcntl(notify[0], F_SETFD, FD_CLOEXEC);
    const std::string fdArg = "--notify-fd=" + std::to_string(notify[1]);
    const std::string processArg = "--process=" + std::to_string(getpid());
    std::vector<std::string> envStrings;
    for (char **e = environ; *e; ++e) {
        if (strncmp(*e, "DBUS_SYSTEM_BUS_ADDRESS=", 24) != 0)
            envStrings.emplace_back(*e);
    }
    if (busAddress && *busAddress)
        envStrings.push_back(std::string("DBUS_SYSTEM_BUS_ADDRESS=") + busAddress);
    else if (const char *system = getenv("DBUS_SYSTEM_BUS_ADDRESS"))
        envStrings.push_back(std::string("DBUS_SYSTEM_BUS_ADDRESS=") + system);
    std::vector<char *> envp;
    for (std::string &e : envStrings)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    const char *argv[] = {agentPath, "--fallback", fdArg.c_str(), processArg.c_str(), nullptr};

    const pid_t pid = fork();
    if (pid < 0) {
        close(notify[0]);
        close(notify[1]);
        return;
    }
    if (pid == 0) {
        execve(agentPath, const_cast<char *const *>(argv), envp.data());
        _exit(127);
    }
    close(notify[1]);
    m_pid = pid;
    // Wait for registration (EOF on the pipe), but never for long: without an agent the call
    // still works for those whom polkit allows without a password.
    pollfd p{notify[0], POLLIN, 0};
    for (int waited = 0; waited < 5000; waited += 100) {
        const int n = poll(&p, 1, 100);
        if (n > 0 || (n < 0 && errno != EINTR))
            break;
        if (waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
            m_pid = -1;
            break;
        }
    }
    close(notify[0]);
}

void TtyAgent::stop() {
    if (m_pid <= 0)
        return;
    kill(m_pid, SIGTERM);
    while (waitpid(m_pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    m_pid = -1;
}

} // namespace portico::ctl
