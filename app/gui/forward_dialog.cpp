// SPDX-License-Identifier: GPL-3.0-or-later
// The forward dialog's behaviour: fields to a Forward, validation on every keystroke, presets,
// the interface and address choices, and the two previews.
#include "forward_dialog.h"
#include "ui_forward_dialog.h"
#include "when_done.h"

#include "helper_client.h"
#include "iptables_commands.h"
#include "ruleset_excerpt.h"
#include "validation.h"

#include <QClipboard>
#include <QFontDatabase>
#include <QGuiApplication>
#include <QNetworkInterface>
#include <QPushButton>
#include <QRegularExpression>

namespace portico {

QList<ForwardDialog::Preset> ForwardDialog::presets() {
    return {
        {tr("HTTP (80/tcp)"), QStringLiteral("http"), Protocol::Tcp, 80},
        {tr("HTTPS (443/tcp)"), QStringLiteral("https"), Protocol::Tcp, 443},
        {tr("SSH (22/tcp)"), QStringLiteral("ssh"), Protocol::Tcp, 22},
        {tr("RDP (3389/tcp+udp)"), QStringLiteral("rdp"), Protocol::TcpUdp, 3389},
        {tr("Minecraft (25565/tcp)"), QStringLiteral("minecraft"), Protocol::Tcp, 25565},
        {tr("DNS (53/tcp+udp)"), QStringLiteral("dns"), Protocol::TcpUdp, 53},
        {tr("WireGuard (51820/udp)"), QStringLiteral("wireguard"), Protocol::Udp, 51820},
        {tr("OpenVPN (1194/udp)"), QStringLiteral("openvpn"), Protocol::Udp, 1194},
        {tr("SMTP submission (587/tcp)"), QStringLiteral("submission"), Protocol::Tcp, 587},
        {tr("IMAPS (993/tcp)"), QStringLiteral("imaps"), Protocol::Tcp, 993},
        {tr("VNC (5900/tcp)"), QStringLiteral("vnc"), Protocol::Tcp, 5900},
        {tr("Plex (32400/tcp)"), QStringLiteral("plex"), Protocol::Tcp, 32400},
    };
}

ForwardDialog::ForwardDialog(HelperClient *client, const QList<Forward> &others,
                             qsizetype replacing, QWidget *parent)
    : QDialog(parent)
    , m_ui(std::make_unique<Ui::ForwardDialog>())
    , m_client(client)
    , m_others(others)
    , m_replacing(replacing) {
    m_ui->setupUi(this);
    setWindowTitle(replacing >= 0 ? tr("Edit forward") : tr("Add forward"));

    m_ui->presetCombo->addItem(tr("Custom"));
    for (const Preset &p : presets())
        m_ui->presetCombo->addItem(p.label);
    m_ui->protocolCombo->addItem(tr("TCP"), int(Protocol::Tcp));
    m_ui->protocolCombo->addItem(tr("UDP"), int(Protocol::Udp));
    m_ui->protocolCombo->addItem(tr("TCP and UDP"), int(Protocol::TcpUdp));
    m_ui->interfaceCombo->lineEdit()->setPlaceholderText(tr("any interface"));
    m_ui->externalAddressCombo->lineEdit()->setPlaceholderText(tr("any address of this host"));
    fillInterfaces();
    fillAddresses();
    const QFont fixed = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    for (QPlainTextEdit *e : {m_ui->nftPreview, m_ui->iptablesPreview}) {
        e->setFont(fixed);
        e->setTabStopDistance(QFontMetricsF(fixed).horizontalAdvance(QLatin1Char(' ')) * 4);
    }

    m_errorForKey = {
        {QStringLiteral("name"), m_ui->nameError},
        {QStringLiteral("interface"), m_ui->interfaceError},
        {QStringLiteral("external_port"), m_ui->externalPortError},
        {QStringLiteral("target_address"), m_ui->targetAddressError},
        {QStringLiteral("target_port"), m_ui->targetPortError},
        {QStringLiteral("sources"), m_ui->sourcesError},
        {QStringLiteral("external_address"), m_ui->externalAddressError},
        {QStringLiteral("comment"), m_ui->commentError},
    };

    const auto changed = [this] {
        revalidate();
    };
    for (QLineEdit *e : {m_ui->nameEdit, m_ui->externalPortEdit, m_ui->targetAddressEdit,
                         m_ui->targetPortEdit, m_ui->sourcesEdit, m_ui->commentEdit})
        connect(e, &QLineEdit::textChanged, this, changed);
    connect(m_ui->interfaceCombo, &QComboBox::currentTextChanged, this, [this] {
        if (!m_filling)
            fillAddresses();
        revalidate();
    });
    connect(m_ui->externalAddressCombo, &QComboBox::currentTextChanged, this, changed);
    connect(m_ui->protocolCombo, &QComboBox::currentIndexChanged, this, changed);
    for (QCheckBox *c : {m_ui->enabledCheck, m_ui->masqueradeCheck, m_ui->hairpinCheck})
        connect(c, &QCheckBox::toggled, this, changed);
    connect(m_ui->presetCombo, &QComboBox::activated, this, &ForwardDialog::applyPreset);

    connect(m_ui->advancedToggle, &QToolButton::toggled, this, [this](bool on) {
        m_ui->advancedToggle->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
        m_ui->advancedGroup->setVisible(on);
        adjustSize();
    });
    connect(m_ui->previewToggle, &QToolButton::toggled, this, [this](bool on) {
        m_ui->previewToggle->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
        m_ui->previewTabs->setVisible(on);
        if (on)
            requestRuleset();
        adjustSize();
    });
    connect(m_ui->copyNftButton, &QPushButton::clicked, this,
            [this] { QGuiApplication::clipboard()->setText(m_ui->nftPreview->toPlainText()); });
    connect(m_ui->copyIptablesButton, &QPushButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(m_ui->iptablesPreview->toPlainText());
    });
    connect(m_ui->buttonBox, &QDialogButtonBox::accepted, this, [this] {
        revalidate();
        if (m_valid)
            accept();
    });
    connect(m_ui->buttonBox, &QDialogButtonBox::rejected, this, &QDialog::reject);

    m_ui->enabledCheck->setChecked(true);
    setForward(Forward{});
}

ForwardDialog::~ForwardDialog() = default;

void ForwardDialog::fillInterfaces() {
    m_filling = true;
    const QString keep = m_ui->interfaceCombo->currentText();
    m_ui->interfaceCombo->clear();
    m_ui->interfaceCombo->addItem(QString());
    m_hostNetworks.clear();
    for (const QNetworkInterface &i : QNetworkInterface::allInterfaces()) {
        if (i.flags() & QNetworkInterface::IsLoopBack)
            continue;
        QStringList addrs;
        for (const QNetworkAddressEntry &e : i.addressEntries()) {
            if (!e.ip().scopeId().isEmpty())
                continue;
            addrs << e.ip().toString();
            // parseSubnet clears the host bits: the network, as a Cidr holds it.
            const auto net = QHostAddress::parseSubnet(e.ip().toString() + QLatin1Char('/') +
                                                       QString::number(e.prefixLength()));
            if (net.second > 0)
                m_hostNetworks.append(Cidr{net.first, net.second});
        }
        m_ui->interfaceCombo->addItem(i.name());
        m_ui->interfaceCombo->setItemData(
            m_ui->interfaceCombo->count() - 1,
            addrs.isEmpty() ? tr("no address") : addrs.join(QStringLiteral(", ")), Qt::ToolTipRole);
    }
    m_ui->interfaceCombo->setCurrentText(keep);
    m_filling = false;
}

void ForwardDialog::fillAddresses() {
    // The addresses of the chosen interface (of all of them for "any"), skipping link-local ones:
    // a forward's external address must be one that packets from outside are sent to.
    const QString iface = interfaceText();
    const QString keep = m_ui->externalAddressCombo->currentText();
    m_filling = true;
    m_ui->externalAddressCombo->clear();
    m_ui->externalAddressCombo->addItem(QString());
    for (const QNetworkInterface &i : QNetworkInterface::allInterfaces()) {
        if ((i.flags() & QNetworkInterface::IsLoopBack) || (!iface.isEmpty() && i.name() != iface))
            continue;
        for (const QNetworkAddressEntry &e : i.addressEntries()) {
            if (!e.ip().scopeId().isEmpty() || e.ip().isLinkLocal())
                continue;
            m_ui->externalAddressCombo->addItem(e.ip().toString());
            m_ui->externalAddressCombo->setItemData(m_ui->externalAddressCombo->count() - 1,
                                                    i.name(), Qt::ToolTipRole);
        }
    }
    m_ui->externalAddressCombo->setCurrentText(keep);
    m_filling = false;
}

QString ForwardDialog::interfaceText() const {
    return m_ui->interfaceCombo->currentText().trimmed();
}

void ForwardDialog::setForward(const Forward &f) {
    m_filling = true;
    m_base = f;
    m_ui->nameEdit->setText(f.name);
    m_ui->enabledCheck->setChecked(f.enabled);
    m_ui->protocolCombo->setCurrentIndex(m_ui->protocolCombo->findData(int(f.protocol)));
    m_ui->interfaceCombo->setCurrentText(f.interface);
    m_ui->externalPortEdit->setText(f.externalPort.isNull() ? QString()
                                                            : f.externalPort.toString());
    m_ui->targetAddressEdit->setText(f.targetAddress.isNull() ? QString()
                                                              : f.targetAddress.toString());
    m_ui->targetPortEdit->setText(f.targetPort.isNull() ? QString() : f.targetPort.toString());
    QStringList sources;
    for (const Cidr &c : f.sources)
        sources << c.toString();
    m_ui->sourcesEdit->setText(sources.join(QStringLiteral(", ")));
    m_filling = false;
    fillAddresses();
    m_ui->externalAddressCombo->setCurrentText(
        f.externalAddress.isNull() ? QString() : f.externalAddress.toString());
    m_ui->masqueradeCheck->setChecked(f.masquerade);
    m_ui->hairpinCheck->setChecked(f.hairpin);
    m_ui->commentEdit->setText(f.comment);
    // Open the advanced section when it holds something, so nothing set is hidden.
    if (!f.sources.isEmpty() || !f.externalAddress.isNull() || f.masquerade || f.hairpin ||
        !f.comment.isEmpty())
        m_ui->advancedToggle->setChecked(true);
    revalidate();
}

void ForwardDialog::applyPreset(int index) {
    if (index <= 0)
        return;
    const Preset p = presets().at(index - 1);
    m_ui->protocolCombo->setCurrentIndex(m_ui->protocolCombo->findData(int(p.protocol)));
    m_ui->externalPortEdit->setText(QString::number(p.port));
    if (m_ui->nameEdit->text().trimmed().isEmpty())
        m_ui->nameEdit->setText(p.name);
    revalidate();
}

void ForwardDialog::setError(QLabel *label, const QString &message) {
    label->setText(message.isEmpty() ? QString() : QStringLiteral("⚠ %1").arg(message));
    label->setVisible(!message.isEmpty());
}

QString ForwardDialog::firstError() const {
    for (QLabel *l : {m_ui->nameError, m_ui->interfaceError, m_ui->externalPortError,
                      m_ui->targetAddressError, m_ui->targetPortError, m_ui->sourcesError,
                      m_ui->externalAddressError, m_ui->commentError, m_ui->formError})
        if (!l->text().isEmpty())
            return l->text();
    return {};
}

void ForwardDialog::revalidate() {
    if (m_filling)
        return;
    Forward f = m_base;
    QHash<QLabel *, QString> errors;
    const auto check = [&](QLabel *label, const QString &message) {
        if (!message.isEmpty() && !errors.contains(label))
            errors.insert(label, message);
    };

    f.name = m_ui->nameEdit->text();
    check(m_ui->nameError, checkName(f.name));
    f.enabled = m_ui->enabledCheck->isChecked();
    f.protocol = Protocol(m_ui->protocolCombo->currentData().toInt());
    f.interface = interfaceText();
    check(m_ui->interfaceError, checkInterfaceName(f.interface));
    const QString extPort = m_ui->externalPortEdit->text().trimmed();
    if (extPort.isEmpty())
        check(m_ui->externalPortError, tr("the external port is required"));
    else
        check(m_ui->externalPortError,
              parsePortRange(extPort, tr("external port"), &f.externalPort));
    f.targetAddress = QHostAddress();
    check(m_ui->targetAddressError, parseAddress(m_ui->targetAddressEdit->text().trimmed(),
                                                 tr("target address"), &f.targetAddress));
    f.targetPort = PortRange{};
    check(m_ui->targetPortError,
          parsePortRange(m_ui->targetPortEdit->text().trimmed(), tr("target port"), &f.targetPort));
    f.sources.clear();
    static const QRegularExpression separators(QStringLiteral("[,\\s]+"));
    for (const QString &s : m_ui->sourcesEdit->text().split(separators, Qt::SkipEmptyParts)) {
        Cidr c;
        const QString e = parseCidr(s, QHostAddress::AnyIPProtocol, &c);
        check(m_ui->sourcesError, e);
        if (e.isEmpty())
            f.sources << c;
    }
    f.externalAddress = QHostAddress();
    check(m_ui->externalAddressError,
          parseAddress(m_ui->externalAddressCombo->currentText().trimmed(), tr("external address"),
                       &f.externalAddress));
    f.masquerade = m_ui->masqueradeCheck->isChecked();
    f.hairpin = m_ui->hairpinCheck->isChecked();
    f.comment = m_ui->commentEdit->text();
    check(m_ui->commentError, checkComment(f.comment));

    // The rules across fields and against the other forwards, once every field parses.
    if (errors.isEmpty()) {
        ValidationError v = validateForward(f);
        if (v.ok())
            v = validateAgainst(f, m_others, m_replacing);
        if (!v.ok())
            check(m_errorForKey.value(v.key, m_ui->formError), v.message);
    }

    for (QLabel *l : m_errorForKey)
        setError(l, errors.value(l));
    setError(m_ui->formError, errors.value(m_ui->formError));
    // Advanced fields with an error must not hide behind a closed section.
    for (QLabel *l : {m_ui->sourcesError, m_ui->externalAddressError, m_ui->commentError})
        if (errors.contains(l))
            m_ui->advancedToggle->setChecked(true);

    // Messages wrap; grow the dialog so that none is cut off.
    if (layout() && layout()->hasHeightForWidth()) {
        layout()->activate();
        const int needed = layout()->totalHeightForWidth(width());
        if (needed > height())
            resize(width(), needed);
    }

    m_valid = errors.isEmpty();
    m_current = f;
    m_ui->buttonBox->button(QDialogButtonBox::Ok)->setEnabled(m_valid);
    m_ui->iptablesPreview->setPlainText(
        m_valid ? iptablesCommands(f, m_hostNetworks).join(QLatin1Char('\n'))
                : tr("# Correct the fields marked above to see the commands."));
    showNftPreview();
}

void ForwardDialog::requestRuleset() {
    if (!m_client)
        return;
    m_ui->nftPreview->setPlainText(tr("# Asking the helper for its ruleset…"));
    whenDone(this, m_client->rulesetAsync(), [this](const QDBusMessage &reply) {
        const auto r = m_client->decodeRuleset(reply);
        m_ruleset = r.ok() ? r.value : QString();
        m_rulesetError = r.ok() ? QString() : r.error.message;
        showNftPreview();
    });
}

void ForwardDialog::showNftPreview() {
    if (!m_ui->previewTabs->isVisible() && m_ruleset.isEmpty() && m_rulesetError.isEmpty())
        return;
    if (!m_rulesetError.isEmpty()) {
        m_ui->nftPreview->setPlainText(
            tr("# The helper could not show its ruleset: %1").arg(m_rulesetError));
        return;
    }
    if (m_ruleset.isEmpty())
        return;
    QString head;
    const QStringList own = rulesetExcerpt(m_ruleset, m_base);
    if (m_base.id.isEmpty() || m_current != m_base) {
        head = tr("# The helper's table as it is now. After Apply, this forward's elements join "
                  "the maps below;\n# the chains stay as they are, however many forwards there "
                  "are.\n");
    } else if (own.isEmpty()) {
        head = tr("# Forward %1 is not in the kernel (it is disabled). The helper's table as it "
                  "is now:\n")
                   .arg(m_base.id);
    } else {
        head = tr("# Forward %1 in the helper's table: its counter and map elements\n")
                   .arg(m_base.id) +
               own.join(QLatin1Char('\n')) +
               tr("\n\n# The whole table, as the helper writes it (the chains look the "
                  "forwards up in the maps):\n");
    }
    m_ui->nftPreview->setPlainText(head + m_ruleset);
}

} // namespace portico
