// SPDX-License-Identifier: GPL-3.0-or-later
// A small reader of nft's text form: named blocks and their element lists, nothing more.
#include "ruleset_excerpt.h"

#include <QHash>
#include <QList>
#include <QSet>

namespace portico {

namespace {

struct Block {
    QString kind; // map, set, counter
    QString name;
    QStringList elements;
};

QList<Block> readBlocks(const QString &text) {
    QList<Block> blocks;
    const QStringList lines = text.split(QLatin1Char('\n'));
    Block *current = nullptr;
    QString pending; // the elements text, which may span lines
    bool inElements = false;
    for (const QString &raw : lines) {
        const QString line = raw.trimmed();
        if (!current) {
            for (const char *kind : {"map ", "set ", "counter "}) {
                const QLatin1StringView k(kind);
                if (line.startsWith(k) && line.endsWith(QLatin1Char('{'))) {
                    blocks.append(
                        {k.trimmed().toString(), line.mid(k.size()).chopped(1).trimmed(), {}});
                    current = &blocks.last();
                    break;
                }
            }
            continue;
        }
        if (inElements || line.startsWith(QLatin1StringView("elements = {"))) {
            pending += QLatin1Char(' ') +
                       (inElements ? line : line.mid(qsizetype(qstrlen("elements = {"))));
            inElements = !line.endsWith(QLatin1Char('}'));
            if (!inElements) {
                pending.chop(1);
                for (const QString &e : pending.split(QLatin1Char(',')))
                    if (!e.trimmed().isEmpty())
                        current->elements << e.trimmed();
                pending.clear();
            }
            continue;
        }
        if (line == QLatin1StringView("}"))
            current = nullptr;
    }
    return blocks;
}

// "v4_dnat_nat" and "v4_dnat_mark" share "v4_dnat": their keys name the same claims.
QString family(const QString &mapName) {
    const qsizetype cut = mapName.lastIndexOf(QLatin1Char('_'));
    return cut > 0 ? mapName.left(cut) : mapName;
}

QString keyOf(const QString &element) {
    const qsizetype colon = element.indexOf(QLatin1StringView(" : "));
    return colon < 0 ? element : element.left(colon);
}

} // namespace

QStringList rulesetExcerpt(const QString &ruleset, const Forward &f) {
    QStringList out;
    if (f.id.isEmpty() || f.mark() == 0)
        return out;
    const QString mark = QStringLiteral("0x%1").arg(f.mark(), 8, 16, QLatin1Char('0'));
    const QString counterRef = QStringLiteral("\"%1\"").arg(f.id);
    const QList<Block> blocks = readBlocks(ruleset);

    QSet<QString> claims; // family + key of every element that carries the mark
    for (const Block &b : blocks)
        for (const QString &e : b.elements)
            if (e.contains(mark) && !e.contains(counterRef))
                claims.insert(family(b.name) + QLatin1Char('|') + keyOf(e));

    for (const Block &b : blocks) {
        if (b.kind == QLatin1StringView("counter")) {
            if (b.name == f.id)
                out << QStringLiteral("counter %1").arg(b.name);
            continue;
        }
        for (const QString &e : b.elements)
            if (e.contains(mark) || e.contains(counterRef) ||
                claims.contains(family(b.name) + QLatin1Char('|') + keyOf(e)))
                out << QStringLiteral("%1 %2: %3").arg(b.kind, b.name, e);
    }
    return out;
}

} // namespace portico
