// SPDX-License-Identifier: GPL-3.0-or-later
// JsonOut: JSON text written straight into a QByteArray, for the big lists (the state file, the
// bulk files beside ImportForwards and ExportForwards) where QJsonDocument's own writer costs
// more than the data. Only what those lists need: strings, numbers, booleans and addresses.
#pragma once

#include "forward.h"

#include <QByteArray>
#include <QChar>
#include <QHostAddress>
#include <QStringView>

#include <cstring>

namespace portico {

// Appends to a QByteArray through a raw pointer: QByteArray::append of one character at a time
// costs more than the JSON itself. need(n) makes room for n more bytes.
class JsonOut {
public:
    // room: the bytes expected, so that a typical forward needs one allocation and keeps no
    // more than it uses in the cache of encoded forwards.
    JsonOut(QByteArray &buffer, qsizetype room)
        : m_buffer(buffer)
        , m_length(buffer.size()) {
        need(room);
    }
    ~JsonOut() { m_buffer.resize(m_length); }
    JsonOut(const JsonOut &) = delete;
    JsonOut &operator=(const JsonOut &) = delete;

    void need(qsizetype n) {
        if (m_length + n > m_buffer.size())
            m_buffer.resize(qMax(m_buffer.size() * 2, m_length + n));
        m_data = m_buffer.data();
    }
    void put(char c) { m_data[m_length++] = c; }
    template <qsizetype N> void put(const char (&text)[N]) {
        need(N);
        std::memcpy(m_data + m_length, text, N - 1);
        m_length += N - 1;
    }
    void number(uint n) {
        char digits[10];
        int len = 0;
        do {
            digits[len++] = char('0' + n % 10);
            n /= 10;
        } while (n);
        need(len);
        while (len)
            put(digits[--len]);
    }
    // A JSON string as QJsonDocument writes it: '"', '\\' and the control characters escaped
    // (\b \f \n \r \t, else \u00xx), everything else as UTF-8, a lone surrogate as \uxxxx.
    void string(QStringView s) {
        static constexpr char hex[] = "0123456789abcdef";
        need(6 * s.size() + 2); // the longest form of one UTF-16 unit is 6 bytes
        char *p = m_data + m_length;
        *p++ = '"';
        const char16_t *u = s.utf16();
        const char16_t *end = u + s.size();
        while (u != end) {
            const char16_t c = *u++;
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                *p++ = char(c);
            } else if (c < 0x80) {
                *p++ = '\\';
                switch (c) {
                case '"':
                    *p++ = '"';
                    break;
                case '\\':
                    *p++ = '\\';
                    break;
                case 0x8:
                    *p++ = 'b';
                    break;
                case 0xc:
                    *p++ = 'f';
                    break;
                case 0xa:
                    *p++ = 'n';
                    break;
                case 0xd:
                    *p++ = 'r';
                    break;
                case 0x9:
                    *p++ = 't';
                    break;
                default:
                    *p++ = 'u';
                    *p++ = '0';
                    *p++ = '0';
                    *p++ = hex[(c >> 4) & 0xf];
                    *p++ = hex[c & 0xf];
                }
            } else if (c < 0x800) {
                *p++ = char(0xc0 | (c >> 6));
                *p++ = char(0x80 | (c & 0x3f));
            } else if (QChar::isHighSurrogate(c) && u != end && QChar::isLowSurrogate(*u)) {
                const char32_t cp = QChar::surrogateToUcs4(c, *u++);
                *p++ = char(0xf0 | (cp >> 18));
                *p++ = char(0x80 | ((cp >> 12) & 0x3f));
                *p++ = char(0x80 | ((cp >> 6) & 0x3f));
                *p++ = char(0x80 | (cp & 0x3f));
            } else if (QChar::isSurrogate(c)) {
                *p++ = '\\';
                *p++ = 'u';
                *p++ = hex[(c >> 12) & 0xf];
                *p++ = hex[(c >> 8) & 0xf];
                *p++ = hex[(c >> 4) & 0xf];
                *p++ = hex[c & 0xf];
            } else {
                *p++ = char(0xe0 | (c >> 12));
                *p++ = char(0x80 | ((c >> 6) & 0x3f));
                *p++ = char(0x80 | (c & 0x3f));
            }
        }
        *p++ = '"';
        m_length = p - m_data;
    }
    // The dotted quad QHostAddress::toString gives for an IPv4 address, without the quotes.
    void ipv4(quint32 v) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            number((v >> shift) & 0xff);
            if (shift) {
                need(1);
                put('.');
            }
        }
    }
    // An address as a JSON string: the empty string for none.
    void address(const QHostAddress &a) {
        if (a.protocol() == QHostAddress::IPv4Protocol) {
            need(1);
            put('"');
            ipv4(a.toIPv4Address());
            need(1);
            put('"');
        } else {
            string(a.isNull() ? QString() : a.toString());
        }
    }
    void ports(const PortRange &r) {
        need(1);
        put('"');
        if (!r.isNull()) {
            number(r.first);
            if (r.isRange()) {
                need(1);
                put('-');
                number(r.last);
            }
        }
        need(1);
        put('"');
    }
    void boolean(bool b) {
        if (b)
            put("true");
        else
            put("false");
    }

private:
    QByteArray &m_buffer;
    qsizetype m_length;
    char *m_data = nullptr;
};

} // namespace portico
