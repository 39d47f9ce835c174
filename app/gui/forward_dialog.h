// SPDX-License-Identifier: GPL-3.0-or-later
// The dialog that adds or edits one forward: it checks every field while the user types with the
// validators the helper uses, offers interfaces, addresses and service presets, and previews the
// helper's nft rules and the equivalent iptables commands.
#pragma once

#include "forward.h"

#include <QDialog>
#include <QHash>
#include <QLabel>
#include <memory>

namespace Ui {
class ForwardDialog;
}

namespace portico {

class HelperClient;

class ForwardDialog : public QDialog {
    Q_OBJECT
public:
    // `others` is the set the forward joins (the pending working set); `replacing` is the index
    // in it of the forward being edited, or -1 for a new one.
    ForwardDialog(HelperClient *client, const QList<Forward> &others, qsizetype replacing,
                  QWidget *parent = nullptr);
    ~ForwardDialog() override;

    void setForward(const Forward &f);
    // The forward as the fields describe it; meaningful while isValid().
    Forward forward() const { return m_current; }
    bool isValid() const { return m_valid; }
    // The first message shown, empty when valid: for tests and the status line.
    QString firstError() const;

    struct Preset {
        QString label;
        QString name;
        Protocol protocol;
        quint16 port;
    };
    static QList<Preset> presets();

private:
    void revalidate();
    void applyPreset(int index);
    void fillInterfaces();
    void fillAddresses();
    void requestRuleset();
    void showNftPreview();
    void setError(QLabel *label, const QString &message);
    QString interfaceText() const;

    std::unique_ptr<Ui::ForwardDialog> m_ui;
    HelperClient *m_client;
    QList<Forward> m_others;
    qsizetype m_replacing;
    Forward m_base;
    Forward m_current;
    bool m_valid = false;
    bool m_filling = false;
    QList<Cidr> m_hostNetworks; // for the iptables preview's hairpin rule
    QString m_ruleset;
    QString m_rulesetError;
    QHash<QString, QLabel *> m_errorForKey;
};

} // namespace portico
