// SPDX-License-Identifier: GPL-3.0-or-later
// A NETLINK_NETFILTER socket and a paged nf_tables batch: messages are written straight into
// large pages, the pages go to the kernel in one sendmsg, and every acknowledgement is read back.
#pragma once

#include <QString>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

struct mnl_socket;
struct nlmsghdr;

namespace portico::netlink {

// One page-backed batch. Callers reserve room for a message, build it in place with libnftnl or
// libmnl, then commit it; a message never straddles two pages.
class Batch {
public:
    static constexpr size_t pageSize = 4u << 20;
    static constexpr size_t maxMessage = 64u << 10;

    explicit Batch(uint32_t firstSeq);
    Batch(const Batch &) = delete;
    Batch &operator=(const Batch &) = delete;

    // Room for one message of at most maxMessage bytes; returns where to build it.
    char *reserve();
    // Takes the message built at the last reserve(); returns its sequence number.
    uint32_t commit(nlmsghdr *nlh);
    // The next sequence number that commit() will hand out (to put into the header).
    uint32_t nextSeq() const { return m_nextSeq; }
    uint32_t firstSeq() const { return m_firstSeq; }
    // Opens and closes the nfnetlink batch around the messages.
    void begin();
    void end();

    size_t bytes() const;
    size_t messages() const { return m_messages; }
    // Messages that asked for an acknowledgement (NLM_F_ACK): the kernel answers each one.
    size_t expectedAcks() const { return m_expectedAcks; }

    struct Page {
        std::unique_ptr<char[]> data;
        size_t used = 0;
    };
    const std::vector<Page> &pages() const { return m_pages; }

private:
    std::vector<Page> m_pages;
    uint32_t m_firstSeq;
    uint32_t m_nextSeq;
    size_t m_messages = 0;
    size_t m_expectedAcks = 0;
};

// What the kernel said about one message of a batch.
struct Refusal {
    uint32_t seq = 0;
    int error = 0;  // positive errno
    QString extack; // NLMSGERR_ATTR_MSG, when the kernel gave one
    // NLMSGERR_ATTR_OFFS: where in the refused message the bad attribute starts, or -1. For a
    // NEWSETELEM it points at the refused element.
    int64_t badAttrOffset = -1;
};

struct BatchResult {
    std::vector<Refusal> refusals; // in the order the kernel sent them
    QString transportError;        // socket trouble: the outcome is unknown
    bool ok() const { return refusals.empty() && transportError.isEmpty(); }
};

// Reads one NLMSG_ERROR: returns its errno (0 for a plain ACK) and, from the extended ACK, the
// kernel's message and the offset of the attribute it refused.
int parseAck(const nlmsghdr *nlh, QString *extack, int64_t *badAttrOffset = nullptr);

class Socket {
public:
    Socket();
    ~Socket();
    Socket(const Socket &) = delete;
    Socket &operator=(const Socket &) = delete;

    bool isOpen() const { return m_nl != nullptr; }
    QString openError() const { return m_openError; }

    // Sends the whole batch in one sendmsg and reads every acknowledgement back.
    BatchResult send(const Batch &batch);

    // Sends one request (a dump, or a get that asks for an ACK) and calls `onMessage` for every
    // reply until NLMSG_DONE or the ACK.
    // Returns an empty string or the error.
    QString dump(nlmsghdr *request, const std::function<void(const nlmsghdr *)> &onMessage);

    uint32_t nextSeq() { return m_seq++; }

    // As nftables' mnl.c does: the batch must fit the send buffer whole, and the replies to a
    // large request must fit the receive buffer or they are dropped (ENOBUFS).
    void growBuffers(size_t send, size_t receive);

private:
    mnl_socket *m_nl = nullptr;
    uint32_t m_portId = 0;
    uint32_t m_seq = 0;
    size_t m_sndbuf = 0;
    size_t m_rcvbuf = 0;
    QString m_openError;
};

} // namespace portico::netlink
