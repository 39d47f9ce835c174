// SPDX-License-Identifier: GPL-3.0-or-later
// The nf_tables transport: paged batches, one sendmsg per batch, every ACK read to the end.
#include "netlink_batch.h"

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace portico::netlink {

Batch::Batch(uint32_t firstSeq)
    : m_firstSeq(firstSeq)
    , m_nextSeq(firstSeq) {}

char *Batch::reserve() {
    if (m_pages.empty() || m_pages.back().used + maxMessage > pageSize) {
        Page p;
        p.data.reset(new char[pageSize]);
        m_pages.push_back(std::move(p));
    }
    Page &p = m_pages.back();
    // Builders write attributes without bounds checks; a clean header keeps stale bytes out.
    std::memset(p.data.get() + p.used, 0, MNL_NLMSG_HDRLEN + 16);
    return p.data.get() + p.used;
}

uint32_t Batch::commit(nlmsghdr *nlh) {
    Page &p = m_pages.back();
    p.used += NLMSG_ALIGN(nlh->nlmsg_len);
    ++m_messages;
    if (nlh->nlmsg_flags & NLM_F_ACK)
        ++m_expectedAcks;
    return m_nextSeq++;
}

void Batch::begin() {
    commit(nftnl_batch_begin(reserve(), m_nextSeq));
}

void Batch::end() {
    commit(nftnl_batch_end(reserve(), m_nextSeq));
}

size_t Batch::bytes() const {
    size_t n = 0;
    for (const Page &p : m_pages)
        n += p.used;
    return n;
}

Socket::Socket() {
    m_nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!m_nl) {
        m_openError = QStringLiteral("cannot open a netfilter netlink socket: %1")
                          .arg(QString::fromLocal8Bit(strerror(errno)));
        return;
    }
    if (mnl_socket_bind(m_nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        m_openError = QStringLiteral("cannot bind the netfilter netlink socket: %1")
                          .arg(QString::fromLocal8Bit(strerror(errno)));
        mnl_socket_close(m_nl);
        m_nl = nullptr;
        return;
    }
    m_portId = mnl_socket_get_portid(m_nl);
    int one = 1;
    // Extended ACKs carry the kernel's own words; capped ACKs keep error replies small.
    mnl_socket_setsockopt(m_nl, NETLINK_EXT_ACK, &one, sizeof one);
    mnl_socket_setsockopt(m_nl, NETLINK_CAP_ACK, &one, sizeof one);
    m_seq = uint32_t(time(nullptr)) << 8;
}

Socket::~Socket() {
    if (m_nl)
        mnl_socket_close(m_nl);
}

void Socket::growBuffers(size_t send, size_t receive) {
    if (!m_nl)
        return;
    const int fd = mnl_socket_get_fd(m_nl);
    if (send > m_sndbuf) {
        int v = int(std::min<size_t>(send, size_t(INT32_MAX / 2)));
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) == 0)
            m_sndbuf = send;
    }
    if (receive > m_rcvbuf) {
        int v = int(std::min<size_t>(receive, size_t(INT32_MAX / 2)));
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) == 0)
            m_rcvbuf = receive;
    }
}

namespace {

struct ExtAck {
    QString message;
    int64_t offset = -1;
};

int extackAttr(const nlattr *attr, void *data) {
    auto *ack = static_cast<ExtAck *>(data);
    switch (mnl_attr_get_type(attr)) {
    case NLMSGERR_ATTR_MSG:
        if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
            ack->message = QString::fromUtf8(mnl_attr_get_str(attr));
        break;
    case NLMSGERR_ATTR_OFFS:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
            ack->offset = mnl_attr_get_u32(attr);
        break;
    default:
        break;
    }
    return MNL_CB_OK;
}

} // namespace

int parseAck(const nlmsghdr *nlh, QString *extack, int64_t *offset) {
    if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nlmsgerr))
        return EBADMSG;
    const auto *err = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(nlh));
    if (err->error != 0 && (nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
        // With NETLINK_CAP_ACK the original message is cut down to its header.
        size_t tlvs = sizeof(nlmsgerr);
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
            tlvs += NLMSG_ALIGN(err->msg.nlmsg_len - sizeof(nlmsghdr));
        if (tlvs <= mnl_nlmsg_get_payload_len(nlh)) {
            ExtAck ack;
            mnl_attr_parse(nlh, unsigned(tlvs), extackAttr, &ack);
            if (extack)
                *extack = ack.message;
            if (offset)
                *offset = ack.offset;
        }
    }
    return -err->error;
}

BatchResult Socket::send(const Batch &batch) {
    BatchResult result;
    if (!m_nl) {
        result.transportError = m_openError;
        return result;
    }
    const size_t total = batch.bytes();
    growBuffers(total + (1u << 16), std::max<size_t>(batch.messages() * 1024u, 1u << 20));

    std::vector<iovec> iov;
    iov.reserve(batch.pages().size());
    for (const Batch::Page &p : batch.pages())
        iov.push_back({p.data.get(), p.used});
    sockaddr_nl dst{};
    dst.nl_family = AF_NETLINK;
    msghdr msg{};
    msg.msg_name = &dst;
    msg.msg_namelen = sizeof dst;
    msg.msg_iov = iov.data();
    msg.msg_iovlen = iov.size();
    const int fd = mnl_socket_get_fd(m_nl);
    ssize_t sent;
    do {
        sent = sendmsg(fd, &msg, 0);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0 || size_t(sent) != total) {
        result.transportError = QStringLiteral("cannot send the batch to the kernel: %1")
                                    .arg(QString::fromLocal8Bit(strerror(errno)));
        return result;
    }

    // The kernel handles the batch inside sendmsg, so every reply is queued already; poll only
    // guards against a reply that has not arrived yet.
    static thread_local std::vector<char> buf(1u << 20);
    size_t acks = 0;
    bool overrun = false;
    const size_t expected = batch.expectedAcks();
    const uint32_t first = batch.firstSeq(), last = batch.nextSeq();
    while (true) {
        ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOBUFS) {
                overrun = true;
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (acks >= expected)
                    break;
                pollfd pfd{fd, POLLIN, 0};
                if (poll(&pfd, 1, 2000) <= 0)
                    break;
                continue;
            }
            result.transportError = QStringLiteral("cannot read the kernel's answer: %1")
                                        .arg(QString::fromLocal8Bit(strerror(errno)));
            return result;
        }
        int len = int(n);
        for (auto *nlh = reinterpret_cast<const nlmsghdr *>(buf.data()); mnl_nlmsg_ok(nlh, len);
             nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_pid != m_portId || nlh->nlmsg_seq < first || nlh->nlmsg_seq >= last)
                continue;
            if (nlh->nlmsg_type != NLMSG_ERROR)
                continue;
            ++acks;
            QString extack;
            int64_t offset = -1;
            if (const int e = parseAck(nlh, &extack, &offset))
                result.refusals.push_back({nlh->nlmsg_seq, e, extack, offset});
        }
    }
    if (result.refusals.empty() && (overrun || acks < expected)) {
        result.transportError =
            QStringLiteral("the kernel's answer was cut short (%1 of %2 acknowledgements%3); "
                           "the table may or may not have changed")
                .arg(acks)
                .arg(expected)
                .arg(overrun ? QStringLiteral(", receive buffer overrun") : QString());
    }
    return result;
}

QString Socket::dump(nlmsghdr *request, const std::function<void(const nlmsghdr *)> &onMessage) {
    if (!m_nl)
        return m_openError;
    if (mnl_socket_sendto(m_nl, request, request->nlmsg_len) < 0)
        return QString::fromLocal8Bit(strerror(errno));
    const uint32_t seq = request->nlmsg_seq;
    static thread_local std::vector<char> buf(1u << 20);
    while (true) {
        ssize_t n = mnl_socket_recvfrom(m_nl, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return QString::fromLocal8Bit(strerror(errno));
        }
        int len = int(n);
        for (auto *nlh = reinterpret_cast<const nlmsghdr *>(buf.data()); mnl_nlmsg_ok(nlh, len);
             nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != m_portId)
                continue;
            if (nlh->nlmsg_type == NLMSG_DONE)
                return {};
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                QString extack;
                const int e = parseAck(nlh, &extack);
                if (e == 0)
                    return {};
                errno = e;
                return extack.isEmpty() ? QString::fromLocal8Bit(strerror(e)) : extack;
            }
            onMessage(nlh);
        }
    }
}

} // namespace portico::netlink
