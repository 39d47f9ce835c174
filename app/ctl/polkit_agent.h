// SPDX-License-Identifier: GPL-3.0-or-later
// A text-mode polkit agent (pkttyagent) for the duration of one porticoctl command, so that a
// person at a terminal can answer the helper's password prompt, as systemctl and hostnamectl do.
#pragma once

namespace portico::ctl {

class TtyAgent {
public:
    TtyAgent() = default;
    ~TtyAgent();
    TtyAgent(const TtyAgent &) = delete;
    TtyAgent &operator=(const TtyAgent &) = delete;

    // Starts pkttyagent for this process when stdin and stdout are terminals and we are not
    // root, and waits until it has registered. Does nothing otherwise, or if pkttyagent is
    // missing: the helper then refuses with NotAuthorized, which says what to do.
    // `busAddress` is the bus whose polkitd the helper asks (empty = the system bus).
    void start(const char *busAddress);
    void stop();

private:
    int m_pid = -1;
};

} // namespace portico::ctl
