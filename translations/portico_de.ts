<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>ForwardDialog</name>
    <message>
        <source>Forward</source>
        <translation>Weiterleitung</translation>
    </message>
    <message>
        <source>&amp;Service preset:</source>
        <translation>&amp;Dienstvorlage:</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Bezeichnung:</translation>
    </message>
    <message>
        <source>web</source>
        <translation>webserver</translation>
    </message>
    <message>
        <source>&amp;Enabled</source>
        <translation>&amp;Eingeschaltet</translation>
    </message>
    <message>
        <source>&amp;Protocol:</source>
        <translation>&amp;Protokoll:</translation>
    </message>
    <message>
        <source>&amp;Interface:</source>
        <translation>&amp;Schnittstelle:</translation>
    </message>
    <message>
        <source>E&amp;xternal port:</source>
        <translation>E&amp;xterner Port:</translation>
    </message>
    <message>
        <source>80 or 8000-8010</source>
        <translation>80 oder 8000-8010</translation>
    </message>
    <message>
        <source>&amp;Target address:</source>
        <translation>&amp;Zieladresse:</translation>
    </message>
    <message>
        <source>empty: this host</source>
        <translation>leer: dieser Rechner</translation>
    </message>
    <message>
        <source>Target p&amp;ort:</source>
        <translation>Zielp&amp;ort:</translation>
    </message>
    <message>
        <source>empty: same as the external port</source>
        <translation>leer: wie der externe Port</translation>
    </message>
    <message>
        <source>&amp;Advanced</source>
        <translation>E&amp;rweitert</translation>
    </message>
    <message>
        <source>&amp;Allowed sources:</source>
        <translation>Zugelassene &amp;Quellen:</translation>
    </message>
    <message>
        <source>empty: anyone; e.g. 203.0.113.0/24, 2001:db8::/32</source>
        <translation>leer: alle; z. B. 203.0.113.0/24, 2001:db8::/32</translation>
    </message>
    <message>
        <source>External a&amp;ddress:</source>
        <translation>Ex&amp;terne Adresse:</translation>
    </message>
    <message>
        <source>&amp;Masquerade (the target&apos;s replies do not come back through this host)</source>
        <translation>&amp;Masquerading (die Antworten des Ziels laufen sonst nicht über diesen Rechner zurück)</translation>
    </message>
    <message>
        <source>&amp;Hairpin (clients on the target&apos;s side may use the external address too)</source>
        <translation>&amp;Hairpin-NAT (auch Clients auf der Seite des Ziels dürfen die externe Adresse nutzen)</translation>
    </message>
    <message>
        <source>&amp;Comment:</source>
        <translation>&amp;Kommentar:</translation>
    </message>
    <message>
        <source>&amp;Preview of the rules</source>
        <translation>&amp;Vorschau der Regeln</translation>
    </message>
    <message>
        <source>nftables (from the helper)</source>
        <translation>nftables (vom Hilfsdienst)</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>&amp;Kopieren</translation>
    </message>
    <message>
        <source>iptables equivalent</source>
        <translation>iptables-Entsprechung</translation>
    </message>
</context>
<context>
    <name>HelperInstallHint</name>
    <message>
        <source>This AppImage carries the helper. To install it on this computer, run in a terminal:

    &quot;%1&quot; install-helper

It lists the files it copies, then pkexec asks for an administrator&apos;s password.</source>
        <translation>Dieses AppImage bringt den Hilfsdienst mit. Um ihn auf diesem Computer zu installieren, führen Sie in einem Terminal aus:

    &quot;%1&quot; install-helper

Es zählt die Dateien auf, die es kopiert; danach fragt pkexec nach dem Passwort eines Administrators.</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Portico</source>
        <translation>Portico</translation>
    </message>
    <message>
        <source>&amp;Turn on</source>
        <translation>&amp;Einschalten</translation>
    </message>
    <message>
        <source>&amp;Forwards</source>
        <translation>&amp;Weiterleitungen</translation>
    </message>
    <message>
        <source>For&amp;wards</source>
        <translation>W&amp;eiterleitungen</translation>
    </message>
    <message>
        <source>Filter forwards (name, address, port, …)</source>
        <translation>Weiterleitungen filtern (Name, Adresse, Port, …)</translation>
    </message>
    <message>
        <source>No forwards yet. Add one with Add forward… (Ctrl+N), or import a file exported by porticoctl.</source>
        <translation>Noch keine Weiterleitungen. Legen Sie mit „Weiterleitung hinzufügen…“ (Strg+N) eine an oder importieren Sie eine mit porticoctl exportierte Datei.</translation>
    </message>
    <message>
        <source>Try &amp;again</source>
        <translation>&amp;Erneut versuchen</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>Main toolbar</source>
        <translation>Hauptwerkzeugleiste</translation>
    </message>
    <message>
        <source>&amp;Add forward…</source>
        <translation>Weiterleitung &amp;hinzufügen…</translation>
    </message>
    <message>
        <source>Add a forward</source>
        <translation>Eine Weiterleitung hinzufügen</translation>
    </message>
    <message>
        <source>&amp;Edit…</source>
        <translation>&amp;Bearbeiten…</translation>
    </message>
    <message>
        <source>Edit the selected forward</source>
        <translation>Die ausgewählte Weiterleitung bearbeiten</translation>
    </message>
    <message>
        <source>D&amp;uplicate…</source>
        <translation>&amp;Duplizieren…</translation>
    </message>
    <message>
        <source>Copy the selected forward into a new one</source>
        <translation>Die ausgewählte Weiterleitung in eine neue kopieren</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>&amp;Löschen</translation>
    </message>
    <message>
        <source>Delete the selected forwards</source>
        <translation>Die ausgewählten Weiterleitungen löschen</translation>
    </message>
    <message>
        <source>Enable/Disa&amp;ble</source>
        <translation>Ein-/Au&amp;sschalten</translation>
    </message>
    <message>
        <source>Turn the selected forwards on or off</source>
        <translation>Die ausgewählten Weiterleitungen ein- oder ausschalten</translation>
    </message>
    <message>
        <source>A&amp;pply</source>
        <translation>&amp;Anwenden</translation>
    </message>
    <message>
        <source>Send the pending changes to the helper, all at once</source>
        <translation>Die ausstehenden Änderungen alle auf einmal an den Hilfsdienst senden</translation>
    </message>
    <message>
        <source>Re&amp;vert</source>
        <translation>&amp;Verwerfen</translation>
    </message>
    <message>
        <source>Drop the pending changes</source>
        <translation>Die ausstehenden Änderungen verwerfen</translation>
    </message>
    <message>
        <source>&amp;Reload</source>
        <translation>&amp;Neu laden</translation>
    </message>
    <message>
        <source>Read the forwards from the helper again</source>
        <translation>Die Weiterleitungen erneut vom Hilfsdienst lesen</translation>
    </message>
    <message>
        <source>&amp;Import…</source>
        <translation>&amp;Importieren…</translation>
    </message>
    <message>
        <source>Replace the forwards with those of a JSON file (as pending changes)</source>
        <translation>Die Weiterleitungen durch die einer JSON-Datei ersetzen (als ausstehende Änderungen)</translation>
    </message>
    <message>
        <source>&amp;Export…</source>
        <translation>&amp;Exportieren…</translation>
    </message>
    <message>
        <source>Save the forwards to a JSON file</source>
        <translation>Die Weiterleitungen in einer JSON-Datei speichern</translation>
    </message>
    <message>
        <source>&amp;About Portico</source>
        <translation>&amp;Über Portico</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Manage port forwards through portico-helper.</source>
        <translation>Portweiterleitungen über portico-helper verwalten.</translation>
    </message>
    <message>
        <source>Talk to the helper on the D-Bus bus at ADDRESS instead of the system bus (also PORTICO_BUS_ADDRESS).</source>
        <translation>Mit dem Hilfsdienst über den D-Bus unter ADDRESS statt über den System-D-Bus sprechen (auch PORTICO_BUS_ADDRESS).</translation>
    </message>
</context>
<context>
    <name>portico::ConnectionTableModel</name>
    <message>
        <source>%1 d %2:%3:%4</source>
        <translation>%1 T. %2:%3:%4</translation>
    </message>
    <message>
        <source>mark %1</source>
        <translation>Markierung %1</translation>
    </message>
    <message>
        <source>This view holds at most %L1 connections; newer ones are not shown.</source>
        <translation>Diese Ansicht fasst höchstens %L1 Verbindungen; neuere werden nicht angezeigt.</translation>
    </message>
    <message>
        <source>%1/s</source>
        <translation>%1/s</translation>
    </message>
    <message>
        <source>Protocol</source>
        <translation>Protokoll</translation>
    </message>
    <message>
        <source>State</source>
        <translation>Zustand</translation>
    </message>
    <message>
        <source>Source → destination</source>
        <translation>Quelle → Ziel</translation>
    </message>
    <message>
        <source>Sent to</source>
        <translation>Weitergeleitet an</translation>
    </message>
    <message>
        <source>Forward</source>
        <translation>Weiterleitung</translation>
    </message>
    <message>
        <source>Timeout</source>
        <translation>Verfällt in</translation>
    </message>
    <message>
        <source>Age</source>
        <translation>Alter</translation>
    </message>
    <message>
        <source>Packets →/←</source>
        <translation>Pakete →/←</translation>
    </message>
    <message>
        <source>Bytes →/←</source>
        <translation>Bytes →/←</translation>
    </message>
    <message>
        <source>Rate</source>
        <translation>Rate</translation>
    </message>
    <message>
        <source>Flags</source>
        <translation>Kennzeichen</translation>
    </message>
    <message>
        <source>The connection as the client opened it</source>
        <translation>Die Verbindung, wie der Client sie geöffnet hat</translation>
    </message>
    <message>
        <source>Where the forward sent it (the translated destination)</source>
        <translation>Wohin die Weiterleitung sie geschickt hat (das übersetzte Ziel)</translation>
    </message>
    <message>
        <source>Time until the kernel forgets the connection, unless more packets come</source>
        <translation>Zeit, bis der Kernel die Verbindung vergisst, wenn keine Pakete mehr kommen</translation>
    </message>
    <message>
        <source>From the client (→) and back to it (←)</source>
        <translation>Vom Client (→) und zurück zu ihm (←)</translation>
    </message>
    <message>
        <source>Bytes per second in both directions, since the last update</source>
        <translation>Bytes pro Sekunde in beide Richtungen, seit der letzten Aktualisierung</translation>
    </message>
    <message>
        <source>The helper&apos;s stream does not start with a valid greeting.</source>
        <translation>Der Datenstrom des Hilfsdienstes beginnt nicht mit einer gültigen Begrüßung.</translation>
    </message>
    <message>
        <source>The helper speaks another version of the connection stream (version %1, records of %2 bytes; this app expects version %3, %4 bytes).</source>
        <translation>Der Hilfsdienst spricht eine andere Version des Verbindungsstroms (Version %1, Einträge zu %2 Bytes; diese App erwartet Version %3, %4 Bytes).</translation>
    </message>
    <message>
        <source>The helper sent an unreadable list of forwards.</source>
        <translation>Der Hilfsdienst hat eine unlesbare Liste der Weiterleitungen geschickt.</translation>
    </message>
    <message>
        <source>The helper sent a truncated connection record.</source>
        <translation>Der Hilfsdienst hat einen abgeschnittenen Verbindungseintrag geschickt.</translation>
    </message>
    <message>
        <source>The helper sent a truncated list of closed connections.</source>
        <translation>Der Hilfsdienst hat eine abgeschnittene Liste beendeter Verbindungen geschickt.</translation>
    </message>
    <message>
        <source>Id</source>
        <translation>Kennung</translation>
    </message>
</context>
<context>
    <name>portico::ConnectionsView</name>
    <message>
        <source>Turn &amp;on counting</source>
        <translation>Zählung ein&amp;schalten</translation>
    </message>
    <message>
        <source>Filter connections (address, address:port, port, forward, tcp, established, …)</source>
        <translation>Verbindungen filtern (Adresse, Adresse:Port, Port, Weiterleitung, tcp, established, …)</translation>
    </message>
    <message>
        <source>Every word must match: an address or its start (198.51.100.), address:port, a port, a forward&apos;s name, a protocol, a state or a flag.</source>
        <translation>Jedes Wort muss passen: eine Adresse oder ihr Anfang (198.51.100.), Adresse:Port, ein Port, der Name einer Weiterleitung, ein Protokoll, ein Zustand oder ein Kennzeichen.</translation>
    </message>
    <message>
        <source>For&amp;warded only</source>
        <translation>Nur weiter&amp;geleitete</translation>
    </message>
    <message>
        <source>&amp;Established only</source>
        <translation>Nur &amp;bestehende</translation>
    </message>
    <message>
        <source>Pr&amp;otocol:</source>
        <translation>Pr&amp;otokoll:</translation>
    </message>
    <message>
        <source>Any</source>
        <translation>Alle</translation>
    </message>
    <message>
        <source>Forwar&amp;d:</source>
        <translation>Weiterleit&amp;ung:</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>&amp;Anhalten</translation>
    </message>
    <message>
        <source>Hold the table still; the changes are shown when you resume</source>
        <translation>Die Tabelle anhalten; die Änderungen erscheinen beim Fortsetzen</translation>
    </message>
    <message>
        <source>&amp;Kill…</source>
        <translation>&amp;Trennen…</translation>
    </message>
    <message>
        <source>Remove the selected connections from the kernel&apos;s table</source>
        <translation>Die ausgewählten Verbindungen aus der Tabelle des Kernels entfernen</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>&amp;Kopieren</translation>
    </message>
    <message>
        <source>Show the &amp;forward</source>
        <translation>&amp;Weiterleitung zeigen</translation>
    </message>
    <message>
        <source>E&amp;xport CSV…</source>
        <translation>CSV e&amp;xportieren…</translation>
    </message>
    <message>
        <source>Try &amp;again</source>
        <translation>&amp;Erneut versuchen</translation>
    </message>
    <message>
        <source>Per-connection byte and packet counting (conntrack accounting) is off, so packets, bytes and rates are not shown.</source>
        <translation>Das Zählen von Bytes und Paketen je Verbindung (Conntrack-Accounting) ist aus, daher werden Pakete, Bytes und Raten nicht angezeigt.</translation>
    </message>
    <message>
        <source>The connection list stopped</source>
        <translation>Die Verbindungsliste ist stehen geblieben</translation>
    </message>
    <message>
        <source>The helper&apos;s stream of connections ended: %1

Press Try again to read the table again.</source>
        <translation>Der Verbindungsstrom des Hilfsdienstes ist zu Ende: %1

Drücken Sie „Erneut versuchen“, um die Tabelle neu zu lesen.</translation>
    </message>
    <message>
        <source>the helper closed it</source>
        <translation>der Hilfsdienst hat ihn geschlossen</translation>
    </message>
    <message>
        <source>Not allowed to watch connections</source>
        <translation>Keine Berechtigung, Verbindungen anzusehen</translation>
    </message>
    <message>
        <source>%1

Seeing the connection table needs the &quot;monitor&quot; permission (io.github.portico.monitor). Ask an administrator, then press Try again.</source>
        <translation>%1

Für die Verbindungstabelle ist die Berechtigung „monitor“ (io.github.portico.monitor) nötig. Fragen Sie einen Administrator und drücken Sie dann „Erneut versuchen“.</translation>
    </message>
    <message>
        <source>The Portico helper is not installed</source>
        <translation>Der Portico-Hilfsdienst ist nicht installiert</translation>
    </message>
    <message>
        <source>The connection table comes from portico-helper, a small system service that runs as root, and nothing answers for it.

Install the &quot;portico&quot; package, then press Try again.

Details: %1</source>
        <translation>Die Verbindungstabelle kommt von portico-helper, einem kleinen Systemdienst, der als root läuft, und niemand antwortet für ihn.

Installieren Sie das Paket „portico“ und drücken Sie dann „Erneut versuchen“.

Einzelheiten: %1</translation>
    </message>
    <message>
        <source>Cannot reach the D-Bus bus</source>
        <translation>Der D-Bus ist nicht erreichbar</translation>
    </message>
    <message>
        <source>The connection table cannot be read</source>
        <translation>Die Verbindungstabelle kann nicht gelesen werden</translation>
    </message>
    <message>
        <source>Loading %1 connections…</source>
        <translation>%1 Verbindungen werden geladen…</translation>
    </message>
    <message>
        <source>Not reading connections.</source>
        <translation>Verbindungen werden nicht gelesen.</translation>
    </message>
    <message>
        <source>%1 shown of %2</source>
        <translation>%1 von %2 angezeigt</translation>
    </message>
    <message>
        <source>Paused: %1 (changes are held until you resume)</source>
        <translation>Angehalten: %1 (Änderungen warten, bis Sie fortsetzen)</translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation>&amp;Fortsetzen</translation>
    </message>
    <message>
        <source>Kill connections</source>
        <translation>Verbindungen trennen</translation>
    </message>
    <message>
        <source>Remove the selected connections (%1) from the kernel&apos;s table?</source>
        <translation>Die ausgewählten Verbindungen (%1) aus der Tabelle des Kernels entfernen?</translation>
    </message>
    <message>
        <source>Their packets then go through the rules again as new connections; an established TCP connection usually breaks.</source>
        <translation>Ihre Pakete durchlaufen die Regeln dann erneut als neue Verbindungen; eine bestehende TCP-Verbindung bricht meist ab.</translation>
    </message>
    <message>
        <source>&amp;Kill</source>
        <translation>&amp;Trennen</translation>
    </message>
    <message>
        <source>Not killed</source>
        <translation>Nicht getrennt</translation>
    </message>
    <message>
        <source>Killing connections (%1)…</source>
        <translation>Verbindungen werden getrennt (%1) …</translation>
    </message>
    <message>
        <source>Connections killed: %1.</source>
        <translation>Getrennte Verbindungen: %1.</translation>
    </message>
    <message>
        <source>Connections killed: %1 of %2; the others had ended already.</source>
        <translation>Getrennte Verbindungen: %1 von %2; die anderen waren schon beendet.</translation>
    </message>
    <message>
        <source>Counting could not be turned on: %1</source>
        <translation>Die Zählung konnte nicht eingeschaltet werden: %1</translation>
    </message>
    <message>
        <source>Export connections</source>
        <translation>Verbindungen exportieren</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV (*.csv)</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>Export fehlgeschlagen</translation>
    </message>
    <message>
        <source>Cannot write %1.</source>
        <translation>%1 kann nicht geschrieben werden.</translation>
    </message>
</context>
<context>
    <name>portico::DiagnosisDialog</name>
    <message>
        <source>&amp;Run a trace</source>
        <translation>&amp;Trace starten</translation>
    </message>
    <message>
        <source>Check &amp;again</source>
        <translation>&amp;Erneut prüfen</translation>
    </message>
    <message>
        <source>Why doesn&apos;t &apos;%1&apos; work?</source>
        <translation>Warum funktioniert „%1“ nicht?</translation>
    </message>
    <message>
        <source>Show in the &amp;diagram</source>
        <translation>Im &amp;Diagramm zeigen</translation>
    </message>
    <message>
        <source>The trace could not start: %1</source>
        <translation>Der Trace konnte nicht starten: %1</translation>
    </message>
    <message>
        <source>A trace follows the packets of &apos;%1&apos; through every chain of every table for %2 seconds. Start it, then send traffic to port %3 of this gateway from where the clients are.</source>
        <translation>Ein Trace verfolgt die Pakete von „%1“ %2 Sekunden lang durch jede Kette jeder Tabelle. Starten Sie ihn und senden Sie dann Verkehr an Port %3 dieses Gateways, von dort, wo die Clients sind.</translation>
    </message>
    <message>
        <source>A trace needs the forward applied and enabled.</source>
        <translation>Ein Trace braucht eine angewendete und eingeschaltete Weiterleitung.</translation>
    </message>
    <message>
        <source>Checking &apos;%1&apos;…</source>
        <translation>„%1“ wird geprüft…</translation>
    </message>
    <message>
        <source>The checks could not run: %1</source>
        <translation>Die Prüfungen konnten nicht laufen: %1</translation>
    </message>
    <message>
        <source>Problems that stop &apos;%1&apos; from working: %2.</source>
        <translation>Probleme, die „%1“ am Funktionieren hindern: %2.</translation>
    </message>
    <message>
        <source>No problem found; warnings: %1.</source>
        <translation>Kein Problem gefunden; Warnungen: %1.</translation>
    </message>
    <message>
        <source>Nothing wrong found with &apos;%1&apos;. If it still does not work, run a trace.</source>
        <translation>An „%1“ wurde nichts Falsches gefunden. Wenn es trotzdem nicht funktioniert, starten Sie einen Trace.</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>Problem</translation>
    </message>
    <message>
        <source>Warning</source>
        <translation>Warnung</translation>
    </message>
    <message>
        <source>Fine</source>
        <translation>In Ordnung</translation>
    </message>
    <message>
        <source>&lt;i&gt;Fix:&lt;/i&gt; %1</source>
        <translation>&lt;i&gt;Abhilfe:&lt;/i&gt; %1</translation>
    </message>
    <message>
        <source>Fix: %1</source>
        <translation>Abhilfe: %1</translation>
    </message>
    <message>
        <source>Chain: %1</source>
        <translation>Kette: %1</translation>
    </message>
    <message>
        <source>The trace shows it: the packet was dropped by %1.</source>
        <translation>Der Trace zeigt es: Das Paket wurde von %1 verworfen.</translation>
    </message>
    <message>
        <source>That is the chain named above: %1</source>
        <translation>Das ist die oben genannte Kette: %1</translation>
    </message>
    <message>
        <source>Tracing: no packet dropped so far (seen: %1).</source>
        <translation>Trace läuft: bisher kein Paket verworfen (gesehen: %1).</translation>
    </message>
    <message>
        <source>Tracing for %1 seconds: send traffic to port %2 of this gateway now.</source>
        <translation>Trace läuft %1 Sekunden: Senden Sie jetzt Verkehr an Port %2 dieses Gateways.</translation>
    </message>
    <message>
        <source>The trace failed: %1</source>
        <translation>Der Trace ist fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>No traced packet was dropped (seen: %1): netfilter lets this forward&apos;s traffic through. Look at the target host and its answers.</source>
        <translation>Kein verfolgtes Paket wurde verworfen (gesehen: %1): netfilter lässt den Verkehr dieser Weiterleitung durch. Sehen Sie sich den Zielrechner und seine Antworten an.</translation>
    </message>
    <message>
        <source>No packet of &apos;%1&apos; arrived during the trace: the traffic does not reach this gateway, or comes to another address, port or interface than the forward&apos;s.</source>
        <translation>Während des Traces kam kein Paket von „%1“ an: Der Verkehr erreicht dieses Gateway nicht, oder er kommt an einer anderen Adresse, einem anderen Port oder einer anderen Schnittstelle an als der der Weiterleitung.</translation>
    </message>
</context>
<context>
    <name>portico::FlowDiagram</name>
    <message>
        <source>prerouting</source>
        <translation>Prerouting</translation>
    </message>
    <message>
        <source>forward</source>
        <translation>Forward</translation>
    </message>
    <message>
        <source>postrouting</source>
        <translation>Postrouting</translation>
    </message>
    <message>
        <source>input</source>
        <translation>Input</translation>
    </message>
    <message>
        <source>output</source>
        <translation>Output</translation>
    </message>
    <message>
        <source>%1 pkts</source>
        <translation>%1 Pakete</translation>
    </message>
    <message>
        <source>%1 pkt/s</source>
        <translation>%1 Pakete/s</translation>
    </message>
    <message>
        <source>Chain flow diagram</source>
        <translation>Diagramm des Kettenflusses</translation>
    </message>
    <message>
        <source>out</source>
        <translation>hinaus</translation>
    </message>
    <message>
        <source>in</source>
        <translation>herein</translation>
    </message>
    <message>
        <source>routing
decision</source>
        <translation>Routing-
Entscheidung</translation>
    </message>
    <message>
        <source>local process</source>
        <translation>lokaler Prozess</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt; (table %2 %3)</source>
        <translation>&lt;b&gt;%1&lt;/b&gt; (Tabelle %2 %3)</translation>
    </message>
    <message>
        <source>Hook %1, priority %2, type %3</source>
        <translation>Hook %1, Priorität %2, Typ %3</translation>
    </message>
    <message>
        <source>Policy: &lt;b&gt;drop&lt;/b&gt;: a packet no rule accepts is dropped</source>
        <translation>Policy: &lt;b&gt;drop&lt;/b&gt;: Ein Paket, das keine Regel annimmt, wird verworfen</translation>
    </message>
    <message>
        <source>Policy: accept</source>
        <translation>Policy: accept</translation>
    </message>
    <message>
        <source>%1 rules, %2 of them drop or reject, %3 translate addresses</source>
        <translation>%1 Regeln, davon %2 mit drop oder reject, %3 übersetzen Adressen</translation>
    </message>
    <message>
        <source>Counters: %1, %2</source>
        <translation>Zähler: %1, %2</translation>
    </message>
    <message>
        <source>Counters: none (no rule of this chain counts)</source>
        <translation>Zähler: keine (keine Regel dieser Kette zählt)</translation>
    </message>
    <message>
        <source>Now: %1, %2/s</source>
        <translation>Jetzt: %1, %2/s</translation>
    </message>
    <message>
        <source>This chain belongs to another program; Portico only reads it.</source>
        <translation>Diese Kette gehört einem anderen Programm; Portico liest sie nur.</translation>
    </message>
    <message>
        <source>For &apos;%1&apos;: %2</source>
        <translation>Für „%1“: %2</translation>
    </message>
    <message>
        <source>ours</source>
        <translation>unsere</translation>
    </message>
    <message>
        <source>%1 · %2 · prio %3</source>
        <translation>%1 · %2 · Prio %3</translation>
    </message>
    <message>
        <source>policy drop</source>
        <translation>Policy drop</translation>
    </message>
    <message>
        <source>drop rules: %1</source>
        <translation>Drop-Regeln: %1</translation>
    </message>
    <message>
        <source>✕ packet dropped here</source>
        <translation>✕ Paket hier verworfen</translation>
    </message>
    <message>
        <source>✕ dropped in %1</source>
        <translation>✕ verworfen in %1</translation>
    </message>
    <message>
        <source>Traced packet %1 of &apos;%2&apos; was dropped by %3.</source>
        <translation>Verfolgtes Paket %1 von „%2“ wurde von %3 verworfen.</translation>
    </message>
    <message>
        <source>Traced packet %1 of &apos;%2&apos;, on its way through the chains.</source>
        <translation>Verfolgtes Paket %1 von „%2“ auf seinem Weg durch die Ketten.</translation>
    </message>
    <message>
        <source>Path of &apos;%1&apos;: %2</source>
        <translation>Weg von „%1“: %2</translation>
    </message>
    <message>
        <source>Waiting for the ruleset summary from the helper…</source>
        <translation>Warten auf die Übersicht des Regelwerks vom Hilfsdienst…</translation>
    </message>
    <message>
        <source>Every base chain of every table, in the order a packet meets them. Select a forward to see its path.</source>
        <translation>Jede Basiskette jeder Tabelle, in der Reihenfolge, in der ein Paket sie durchläuft. Wählen Sie eine Weiterleitung, um ihren Weg zu sehen.</translation>
    </message>
    <message>
        <source>no chain: accepted</source>
        <translation>keine Kette: angenommen</translation>
    </message>
    <message>
        <source>Portico&apos;s own chain</source>
        <translation>Porticos eigene Kette</translation>
    </message>
    <message>
        <source>has drop or reject rules</source>
        <translation>hat Regeln mit drop oder reject</translation>
    </message>
    <message>
        <source>on the forward&apos;s path, or where the traced packet went</source>
        <translation>auf dem Weg der Weiterleitung oder des verfolgten Pakets</translation>
    </message>
    <message>
        <source>Edges widen and move with the packet rate.</source>
        <translation>Kanten werden mit der Paketrate breiter und bewegen sich.</translation>
    </message>
    <message>
        <source>Not on the IP path: %1</source>
        <translation>Nicht auf dem IP-Weg: %1</translation>
    </message>
    <message>
        <source>Portico chain flow</source>
        <translation>Portico-Kettenfluss</translation>
    </message>
    <message>
        <source>This chain is Portico&apos;s own; its rules count the packets of Portico&apos;s forwards (a NAT chain sees only the first packet of each connection). Per forward: the Hits column.</source>
        <translation>Diese Kette gehört Portico; ihre Regeln zählen die Pakete der Weiterleitungen von Portico (eine NAT-Kette sieht nur das erste Paket jeder Verbindung). Je Weiterleitung: Spalte „Treffer“.</translation>
    </message>
    <message>
        <source>trace</source>
        <translation>Trace</translation>
    </message>
    <message>
        <source>no rules, nothing to count</source>
        <translation>keine Regeln, nichts zu zählen</translation>
    </message>
    <message>
        <source>no rule counters</source>
        <translation>keine Regelzähler</translation>
    </message>
    <message>
        <source>&apos;%1&apos;: %2</source>
        <translation>„%1“: %2</translation>
    </message>
</context>
<context>
    <name>portico::FlowModel</name>
    <message>
        <source>redirect</source>
        <translation>Umleitung</translation>
    </message>
    <message>
        <source>DNAT</source>
        <translation>DNAT</translation>
    </message>
    <message>
        <source>hairpin mark</source>
        <translation>Hairpin-Markierung</translation>
    </message>
    <message>
        <source>accept</source>
        <translation>annehmen</translation>
    </message>
    <message>
        <source>count</source>
        <translation>zählen</translation>
    </message>
    <message>
        <source>masquerade</source>
        <translation>Masquerade</translation>
    </message>
    <message>
        <source>masquerade (hairpin)</source>
        <translation>Masquerade (Hairpin)</translation>
    </message>
    <message>
        <source>not a JSON object: %1</source>
        <translation>kein JSON-Objekt: %1</translation>
    </message>
    <message>
        <source>a trace line without packet or chain</source>
        <translation>eine Trace-Zeile ohne Paket oder Kette</translation>
    </message>
</context>
<context>
    <name>portico::FlowView</name>
    <message>
        <source> · policy %1</source>
        <translation> · Policy %1</translation>
    </message>
    <message>
        <source> · return</source>
        <translation> · Rückkehr</translation>
    </message>
    <message>
        <source> · rule %1: %2</source>
        <translation> · Regel %1: %2</translation>
    </message>
    <message>
        <source>&amp;Trace this forward</source>
        <translation>Diese Weiterleitung &amp;verfolgen</translation>
    </message>
    <message>
        <source>&amp;Stop trace</source>
        <translation>Trace &amp;beenden</translation>
    </message>
    <message>
        <source>&amp;Why doesn&apos;t this work?</source>
        <translation>&amp;Warum funktioniert das nicht?</translation>
    </message>
    <message>
        <source>E&amp;xport image…</source>
        <translation>Bild e&amp;xportieren…</translation>
    </message>
    <message>
        <source>Follow this forward&apos;s packets through every chain for %1 seconds; then send traffic to it.</source>
        <translation>Die Pakete dieser Weiterleitung %1 Sekunden lang durch jede Kette verfolgen; senden Sie dann Verkehr an sie.</translation>
    </message>
    <message>
        <source>Check the usual reasons why a forward carries no traffic</source>
        <translation>Die üblichen Gründe prüfen, warum eine Weiterleitung keinen Verkehr durchlässt</translation>
    </message>
    <message>
        <source>Save the diagram as a PNG or SVG image</source>
        <translation>Das Diagramm als PNG- oder SVG-Bild speichern</translation>
    </message>
    <message>
        <source>&lt;b&gt;Traced packets&lt;/b&gt;</source>
        <translation>&lt;b&gt;Verfolgte Pakete&lt;/b&gt;</translation>
    </message>
    <message>
        <source>the helper did not end the trace in time</source>
        <translation>der Hilfsdienst hat den Trace nicht rechtzeitig beendet</translation>
    </message>
    <message>
        <source>The chains cannot be shown: %1</source>
        <translation>Die Ketten können nicht angezeigt werden: %1</translation>
    </message>
    <message>
        <source>Base chains: %1, of other programs: %2 · ruleset generation %3</source>
        <translation>Basisketten: %1, davon von anderen Programmen: %2 · Generation des Regelwerks %3</translation>
    </message>
    <message>
        <source>Select one forward in the Forwards tab to see its path.</source>
        <translation>Wählen Sie im Reiter „Weiterleitungen“ eine Weiterleitung, um ihren Weg zu sehen.</translation>
    </message>
    <message>
        <source>&apos;%1&apos; is not applied yet: press Apply to trace it.</source>
        <translation>„%1“ ist noch nicht angewendet: Drücken Sie „Anwenden“, um sie zu verfolgen.</translation>
    </message>
    <message>
        <source>&apos;%1&apos; is disabled: enable it to trace it.</source>
        <translation>„%1“ ist ausgeschaltet: Schalten Sie sie ein, um sie zu verfolgen.</translation>
    </message>
    <message>
        <source>Forward &apos;%1&apos;</source>
        <translation>Weiterleitung „%1“</translation>
    </message>
    <message>
        <source>&amp;Trace &apos;%1&apos;</source>
        <translation>„%1“ &amp;verfolgen</translation>
    </message>
    <message>
        <source>the helper closed the trace without saying why</source>
        <translation>der Hilfsdienst hat den Trace ohne Begründung geschlossen</translation>
    </message>
    <message>
        <source>Starting the trace of &apos;%1&apos;…</source>
        <translation>Trace von „%1“ wird gestartet…</translation>
    </message>
    <message>
        <source>The trace could not be stopped: %1</source>
        <translation>Der Trace konnte nicht beendet werden: %1</translation>
    </message>
    <message>
        <source>Packet %1: dropped by %2</source>
        <translation>Paket %1: verworfen von %2</translation>
    </message>
    <message>
        <source>Packet %1: not dropped (chains: %2)</source>
        <translation>Paket %1: nicht verworfen (Ketten: %2)</translation>
    </message>
    <message>
        <source>
in: %1, out: %2</source>
        <translation>
herein: %1, hinaus: %2</translation>
    </message>
    <message>
        <source>-</source>
        <translation>–</translation>
    </message>
    <message>
        <source>No trace yet. Select a forward, press Trace, then send traffic to it.</source>
        <translation>Noch kein Trace. Wählen Sie eine Weiterleitung, drücken Sie „Verfolgen“ und senden Sie dann Verkehr an sie.</translation>
    </message>
    <message>
        <source>Tracing &apos;%1&apos;: send traffic to it now. Packets so far: %2.</source>
        <translation>Trace von „%1“ läuft: Senden Sie jetzt Verkehr an sie. Pakete bisher: %2.</translation>
    </message>
    <message>
        <source>The trace of &apos;%1&apos; failed: %2</source>
        <translation>Der Trace von „%1“ ist fehlgeschlagen: %2</translation>
    </message>
    <message>
        <source>The trace of &apos;%1&apos; ended. Packets: %2.</source>
        <translation>Der Trace von „%1“ ist beendet. Pakete: %2.</translation>
    </message>
    <message>
        <source>Dropped: %1, the last by %2.</source>
        <translation>Verworfen: %1, das letzte von %2.</translation>
    </message>
    <message>
        <source>Saved the diagram to %1.</source>
        <translation>Das Diagramm wurde in %1 gespeichert.</translation>
    </message>
    <message>
        <source>Could not save the diagram to %1.</source>
        <translation>Das Diagramm konnte nicht in %1 gespeichert werden.</translation>
    </message>
    <message>
        <source>Export the diagram</source>
        <translation>Das Diagramm exportieren</translation>
    </message>
    <message>
        <source>PNG image (*.png);;SVG image (*.svg)</source>
        <translation>PNG-Bild (*.png);;SVG-Bild (*.svg)</translation>
    </message>
    <message>
        <source>%1. %2 · %3 %4</source>
        <translation>%1. %2 · %3 %4</translation>
    </message>
</context>
<context>
    <name>portico::ForwardDialog</name>
    <message>
        <source>HTTP (80/tcp)</source>
        <translation>HTTP (80/tcp)</translation>
    </message>
    <message>
        <source>HTTPS (443/tcp)</source>
        <translation>HTTPS (443/tcp)</translation>
    </message>
    <message>
        <source>SSH (22/tcp)</source>
        <translation>SSH (22/tcp)</translation>
    </message>
    <message>
        <source>RDP (3389/tcp+udp)</source>
        <translation>RDP (3389/tcp+udp)</translation>
    </message>
    <message>
        <source>Minecraft (25565/tcp)</source>
        <translation>Minecraft (25565/tcp)</translation>
    </message>
    <message>
        <source>DNS (53/tcp+udp)</source>
        <translation>DNS (53/tcp+udp)</translation>
    </message>
    <message>
        <source>WireGuard (51820/udp)</source>
        <translation>WireGuard (51820/udp)</translation>
    </message>
    <message>
        <source>OpenVPN (1194/udp)</source>
        <translation>OpenVPN (1194/udp)</translation>
    </message>
    <message>
        <source>SMTP submission (587/tcp)</source>
        <translation>SMTP-Einlieferung (587/tcp)</translation>
    </message>
    <message>
        <source>IMAPS (993/tcp)</source>
        <translation>IMAPS (993/tcp)</translation>
    </message>
    <message>
        <source>VNC (5900/tcp)</source>
        <translation>VNC (5900/tcp)</translation>
    </message>
    <message>
        <source>Plex (32400/tcp)</source>
        <translation>Plex (32400/tcp)</translation>
    </message>
    <message>
        <source>Edit forward</source>
        <translation>Weiterleitung bearbeiten</translation>
    </message>
    <message>
        <source>Add forward</source>
        <translation>Weiterleitung hinzufügen</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>Benutzerdefiniert</translation>
    </message>
    <message>
        <source>TCP</source>
        <translation>TCP</translation>
    </message>
    <message>
        <source>UDP</source>
        <translation>UDP</translation>
    </message>
    <message>
        <source>TCP and UDP</source>
        <translation>TCP und UDP</translation>
    </message>
    <message>
        <source>any interface</source>
        <translation>jede Schnittstelle</translation>
    </message>
    <message>
        <source>any address of this host</source>
        <translation>jede Adresse dieses Rechners</translation>
    </message>
    <message>
        <source>no address</source>
        <translation>keine Adresse</translation>
    </message>
    <message>
        <source>the external port is required</source>
        <translation>der externe Port ist erforderlich</translation>
    </message>
    <message>
        <source>external port</source>
        <translation>externer Port</translation>
    </message>
    <message>
        <source>target address</source>
        <translation>Zieladresse</translation>
    </message>
    <message>
        <source>target port</source>
        <translation>Zielport</translation>
    </message>
    <message>
        <source>external address</source>
        <translation>externe Adresse</translation>
    </message>
    <message>
        <source># Correct the fields marked above to see the commands.</source>
        <translation># Korrigieren Sie die oben markierten Felder, um die Befehle zu sehen.</translation>
    </message>
    <message>
        <source># Asking the helper for its ruleset…</source>
        <translation># Der Hilfsdienst wird nach seinem Regelwerk gefragt…</translation>
    </message>
    <message>
        <source># The helper could not show its ruleset: %1</source>
        <translation># Der Hilfsdienst konnte sein Regelwerk nicht zeigen: %1</translation>
    </message>
    <message>
        <source># The helper&apos;s table as it is now. After Apply, this forward&apos;s elements join the maps below;
# the chains stay as they are, however many forwards there are.
</source>
        <translation># Die Tabelle des Hilfsdienstes, wie sie jetzt ist. Nach „Anwenden“ kommen die Elemente dieser
# Weiterleitung in die Maps unten; die Ketten bleiben, wie sie sind, egal wie viele Weiterleitungen es gibt.
</translation>
    </message>
    <message>
        <source># Forward %1 is not in the kernel (it is disabled). The helper&apos;s table as it is now:
</source>
        <translation># Die Weiterleitung %1 ist nicht im Kernel (sie ist ausgeschaltet). Die Tabelle des Hilfsdienstes, wie sie jetzt ist:
</translation>
    </message>
    <message>
        <source># Forward %1 in the helper&apos;s table: its counter and map elements
</source>
        <translation># Die Weiterleitung %1 in der Tabelle des Hilfsdienstes: ihr Zähler und ihre Map-Elemente
</translation>
    </message>
    <message>
        <source>

# The whole table, as the helper writes it (the chains look the forwards up in the maps):
</source>
        <translation>

# Die ganze Tabelle, wie der Hilfsdienst sie schreibt (die Ketten suchen die Weiterleitungen in den Maps):
</translation>
    </message>
</context>
<context>
    <name>portico::ForwardTableModel</name>
    <message>
        <source>applied</source>
        <translation>angewendet</translation>
    </message>
    <message>
        <source>pending add</source>
        <translation>Hinzufügen ausstehend</translation>
    </message>
    <message>
        <source>pending edit</source>
        <translation>Änderung ausstehend</translation>
    </message>
    <message>
        <source>pending delete</source>
        <translation>Löschen ausstehend</translation>
    </message>
    <message>
        <source>any interface</source>
        <translation>jede Schnittstelle</translation>
    </message>
    <message>
        <source>this host : %1</source>
        <translation>dieser Rechner : %1</translation>
    </message>
    <message>
        <source>anyone</source>
        <translation>alle</translation>
    </message>
    <message>
        <source>masquerade</source>
        <translation>Masquerading</translation>
    </message>
    <message>
        <source>hairpin</source>
        <translation>Hairpin-NAT</translation>
    </message>
    <message>
        <source>%1 pkts · %2 · %3/s</source>
        <translation>%1 Pak. · %2 · %3/s</translation>
    </message>
    <message>
        <source>%1 packets, %2 bytes; %3 packets/s</source>
        <translation>%1 Pakete, %2 Bytes; %3 Pakete/s</translation>
    </message>
    <message>
        <source>Not in the kernel yet: press Apply to send it to the helper.</source>
        <translation>Noch nicht im Kernel: Drücken Sie „Anwenden“, um sie an den Hilfsdienst zu senden.</translation>
    </message>
    <message>
        <source>On</source>
        <translation>Ein</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Bezeichnung</translation>
    </message>
    <message>
        <source>Protocol</source>
        <translation>Protokoll</translation>
    </message>
    <message>
        <source>External side</source>
        <translation>Externe Seite</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>Ziel</translation>
    </message>
    <message>
        <source>Sources</source>
        <translation>Quellen</translation>
    </message>
    <message>
        <source>Options</source>
        <translation>Optionen</translation>
    </message>
    <message>
        <source>Hits</source>
        <translation>Treffer</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Zustand</translation>
    </message>
    <message>
        <source>add &apos;%1&apos;</source>
        <translation>„%1“ hinzufügen</translation>
    </message>
    <message>
        <source>change &apos;%1&apos;</source>
        <translation>„%1“ ändern</translation>
    </message>
    <message>
        <source>delete &apos;%1&apos;</source>
        <translation>„%1“ löschen</translation>
    </message>
</context>
<context>
    <name>portico::MainWindow</name>
    <message>
        <source>Revert &amp;this forward</source>
        <translation>Diese Weiterleitung &amp;zurücksetzen</translation>
    </message>
    <message>
        <source>The helper has exited; it starts again on the next call.</source>
        <translation>Der Hilfsdienst hat sich beendet; beim nächsten Aufruf startet er wieder.</translation>
    </message>
    <message>
        <source>Connecting to the helper on %1…</source>
        <translation>Verbindung zum Hilfsdienst über %1 wird hergestellt…</translation>
    </message>
    <message>
        <source>Forwards read from the helper: %1.</source>
        <translation>Vom Hilfsdienst gelesene Weiterleitungen: %1.</translation>
    </message>
    <message>
        <source>The Portico helper could not be started</source>
        <translation>Der Portico-Hilfsdienst konnte nicht gestartet werden</translation>
    </message>
    <message>
        <source>The bus knows portico-helper but could not start it. Look at the system log (journalctl) for portico-helper, or reinstall Portico.

Details: %1</source>
        <translation>Der Bus kennt portico-helper, konnte ihn aber nicht starten. Sehen Sie im Systemprotokoll (journalctl) nach portico-helper, oder installieren Sie Portico neu.

Einzelheiten: %1</translation>
    </message>
    <message>
        <source>The Portico helper is not installed</source>
        <translation>Der Portico-Hilfsdienst ist nicht installiert</translation>
    </message>
    <message>
        <source>Portico changes the firewall through a small system service, portico-helper, which runs as root. Nothing answers for it on %1.

Install the &quot;portico&quot; package of your distribution on this computer. In a Flatpak, the helper must still be installed on the host: a sandboxed app cannot bring a system service. Then press Try again.

Details: %2</source>
        <translation>Portico ändert die Firewall über einen kleinen Systemdienst, portico-helper, der als root läuft. Über %1 antwortet niemand für ihn.

Installieren Sie das Paket „portico“ Ihrer Distribution auf diesem Rechner. Auch bei einem Flatpak muss der Hilfsdienst auf dem Host installiert sein: Eine Anwendung in der Sandbox kann keinen Systemdienst mitbringen. Drücken Sie dann „Erneut versuchen“.

Einzelheiten: %2</translation>
    </message>
    <message>
        <source>Cannot reach the D-Bus bus</source>
        <translation>Der D-Bus ist nicht erreichbar</translation>
    </message>
    <message>
        <source>Portico talks to its helper over %1, which cannot be reached. Is D-Bus running?

Details: %2</source>
        <translation>Portico spricht mit seinem Hilfsdienst über %1, der nicht erreichbar ist. Läuft D-Bus?

Einzelheiten: %2</translation>
    </message>
    <message>
        <source>Not allowed to read the forwards</source>
        <translation>Keine Berechtigung, die Weiterleitungen zu lesen</translation>
    </message>
    <message>
        <source>%1

Nothing was changed. Ask an administrator, then press Try again.</source>
        <translation>%1

Es wurde nichts geändert. Fragen Sie einen Administrator und drücken Sie dann „Erneut versuchen“.</translation>
    </message>
    <message>
        <source>The helper did not answer</source>
        <translation>Der Hilfsdienst hat nicht geantwortet</translation>
    </message>
    <message>
        <source>%1

It may be busy or stuck. Press Try again.</source>
        <translation>%1

Er ist vielleicht beschäftigt oder hängt. Drücken Sie „Erneut versuchen“.</translation>
    </message>
    <message>
        <source>This Portico does not match its helper</source>
        <translation>Dieses Portico passt nicht zu seinem Hilfsdienst</translation>
    </message>
    <message>
        <source>%1

Install the same version of the app and of portico-helper.</source>
        <translation>%1

Installieren Sie dieselbe Version der Anwendung und von portico-helper.</translation>
    </message>
    <message>
        <source>The helper reported an error</source>
        <translation>Der Hilfsdienst hat einen Fehler gemeldet</translation>
    </message>
    <message>
        <source>

Your pending changes (%1) are kept.</source>
        <translation>

Ihre ausstehenden Änderungen (%1) bleiben erhalten.</translation>
    </message>
    <message>
        <source>added &apos;%1&apos; (%2)</source>
        <translation>„%1“ hinzugefügt (%2)</translation>
    </message>
    <message>
        <source>changed &apos;%1&apos;</source>
        <translation>„%1“ geändert</translation>
    </message>
    <message>
        <source>removed &apos;%1&apos;</source>
        <translation>„%1“ entfernt</translation>
    </message>
    <message>
        <source>(nothing you can see: only the generation moved)</source>
        <translation>(nichts Sichtbares: nur die Generation hat sich geändert)</translation>
    </message>
    <message>
        <source>Forwards changed elsewhere</source>
        <translation>Weiterleitungen wurden anderswo geändert</translation>
    </message>
    <message>
        <source>Your changes were not applied: someone else changed the forwards since you read them (generation %1, now %2).</source>
        <translation>Ihre Änderungen wurden nicht angewendet: Jemand anderes hat die Weiterleitungen geändert, seit Sie sie gelesen haben (Generation %1, jetzt %2).</translation>
    </message>
    <message>
        <source>Someone else changed the forwards while you have pending changes (generation %1, now %2).</source>
        <translation>Jemand anderes hat die Weiterleitungen geändert, während Sie ausstehende Änderungen haben (Generation %1, jetzt %2).</translation>
    </message>
    <message>
        <source>Their changes:
• %1

Yours (pending):
• %2</source>
        <translation>Fremde Änderungen:
• %1

Ihre (ausstehend):
• %2</translation>
    </message>
    <message>
        <source>&amp;Reload (drop my edits)</source>
        <translation>&amp;Neu laden (meine Änderungen verwerfen)</translation>
    </message>
    <message>
        <source>&amp;Keep mine (apply over theirs)</source>
        <translation>Meine &amp;behalten (über die fremden anwenden)</translation>
    </message>
    <message>
        <source>Reloaded: your edits were dropped.</source>
        <translation>Neu geladen: Ihre Änderungen wurden verworfen.</translation>
    </message>
    <message>
        <source>Your edits are kept on top of theirs.</source>
        <translation>Ihre Änderungen bleiben erhalten und werden über die fremden gelegt.</translation>
    </message>
    <message>
        <source>Cannot apply</source>
        <translation>Anwenden nicht möglich</translation>
    </message>
    <message>
        <source>%1

Nothing was sent; your pending changes are kept.</source>
        <translation>%1

Es wurde nichts gesendet; Ihre ausstehenden Änderungen bleiben erhalten.</translation>
    </message>
    <message>
        <source>Applying pending changes (%1)…</source>
        <translation>Ausstehende Änderungen (%1) werden angewendet…</translation>
    </message>
    <message>
        <source>Applied.</source>
        <translation>Angewendet.</translation>
    </message>
    <message>
        <source>Not authorized</source>
        <translation>Nicht berechtigt</translation>
    </message>
    <message>
        <source>%1

Nothing was changed. Your pending changes are kept: press Apply to try again.</source>
        <translation>%1

Es wurde nichts geändert. Ihre ausstehenden Änderungen bleiben erhalten: Drücken Sie „Anwenden“, um es erneut zu versuchen.</translation>
    </message>
    <message>
        <source>The changes were not applied</source>
        <translation>Die Änderungen wurden nicht angewendet</translation>
    </message>
    <message>
        <source>%1

Nothing was changed. Your pending changes are kept.</source>
        <translation>%1

Es wurde nichts geändert. Ihre ausstehenden Änderungen bleiben erhalten.</translation>
    </message>
    <message>
        <source>Apply failed: %1</source>
        <translation>Anwenden fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Pending changes dropped.</source>
        <translation>Ausstehende Änderungen verworfen.</translation>
    </message>
    <message>
        <source>Hits are not shown: %1</source>
        <translation>Treffer werden nicht angezeigt: %1</translation>
    </message>
    <message>
        <source>IPv4 and IPv6 forwarding are off on this gateway, so forwards such as &apos;%1&apos; cannot carry traffic to other hosts.</source>
        <translation>IPv4- und IPv6-Forwarding sind auf diesem Gateway ausgeschaltet, daher können Weiterleitungen wie „%1“ keinen Verkehr zu anderen Rechnern leiten.</translation>
    </message>
    <message>
        <source>IPv4 forwarding is off on this gateway, so forwards such as &apos;%1&apos; cannot carry traffic to other hosts.</source>
        <translation>IPv4-Forwarding ist auf diesem Gateway ausgeschaltet, daher können Weiterleitungen wie „%1“ keinen Verkehr zu anderen Rechnern leiten.</translation>
    </message>
    <message>
        <source>IPv6 forwarding is off on this gateway, so forwards such as &apos;%1&apos; cannot carry traffic to other hosts.</source>
        <translation>IPv6-Forwarding ist auf diesem Gateway ausgeschaltet, daher können Weiterleitungen wie „%1“ keinen Verkehr zu anderen Rechnern leiten.</translation>
    </message>
    <message>
        <source>Forwarding was not turned on</source>
        <translation>Das Forwarding wurde nicht eingeschaltet</translation>
    </message>
    <message>
        <source>Forwarding turned on.</source>
        <translation>Forwarding eingeschaltet.</translation>
    </message>
    <message>
        <source>&apos;%1&apos; is pending: press Apply to send it.</source>
        <translation>„%1“ ist ausstehend: Drücken Sie „Anwenden“, um sie zu senden.</translation>
    </message>
    <message>
        <source>%1 copy</source>
        <translation>%1 Kopie</translation>
    </message>
    <message>
        <source>Delete forwards</source>
        <translation>Weiterleitungen löschen</translation>
    </message>
    <message>
        <source>Delete %1?

They stay until you press Apply.</source>
        <translation>%1 löschen?

Sie bleiben bestehen, bis Sie „Anwenden“ drücken.</translation>
    </message>
    <message>
        <source>Import forwards</source>
        <translation>Weiterleitungen importieren</translation>
    </message>
    <message>
        <source>Portico forwards (*.json);;All files (*)</source>
        <translation>Portico-Weiterleitungen (*.json);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation>Import fehlgeschlagen</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>Cannot import %1: %2</source>
        <translation>%1 kann nicht importiert werden: %2</translation>
    </message>
    <message>
        <source>%1

Nothing was changed.</source>
        <translation>%1

Es wurde nichts geändert.</translation>
    </message>
    <message>
        <source>Imported %1 forwards as pending changes: press Apply to send them.</source>
        <translation>%1 Weiterleitungen als ausstehende Änderungen importiert: Drücken Sie „Anwenden“, um sie zu senden.</translation>
    </message>
    <message>
        <source>Export forwards</source>
        <translation>Weiterleitungen exportieren</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>Export fehlgeschlagen</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Exported to %1, with the pending changes.</source>
        <translation>Nach %1 exportiert, mit den ausstehenden Änderungen.</translation>
    </message>
    <message>
        <source>Exported to %1.</source>
        <translation>Nach %1 exportiert.</translation>
    </message>
    <message>
        <source>About Portico</source>
        <translation>Über Portico</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Portico %1&lt;/h3&gt;&lt;p&gt;Port forwarding for Linux gateways, with nftables.&lt;/p&gt;&lt;p&gt;This window runs as you; a small helper, portico-helper, changes the firewall after polkit allows it.&lt;/p&gt;&lt;p&gt;Connected to %2.&lt;/p&gt;&lt;p&gt;Licensed under the GNU GPL, version 3 or later.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Portico %1&lt;/h3&gt;&lt;p&gt;Portweiterleitung für Linux-Gateways, mit nftables.&lt;/p&gt;&lt;p&gt;Dieses Fenster läuft unter Ihrem Benutzer; ein kleiner Hilfsdienst, portico-helper, ändert die Firewall, nachdem polkit es erlaubt hat.&lt;/p&gt;&lt;p&gt;Verbindung über %2.&lt;/p&gt;&lt;p&gt;Lizenziert unter der GNU GPL, Version 3 oder später.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Forwards: %1</source>
        <translation>Weiterleitungen: %1</translation>
    </message>
    <message>
        <source> · pending: %1</source>
        <translation> · ausstehend: %1</translation>
    </message>
    <message>
        <source> · generation %1</source>
        <translation> · Generation %1</translation>
    </message>
    <message>
        <source> · lab bus</source>
        <translation> · Labor-Bus</translation>
    </message>
    <message>
        <source>Pending changes: %1[*]</source>
        <translation>Ausstehende Änderungen: %1[*]</translation>
    </message>
    <message>
        <source>Portico[*]</source>
        <translation>Portico[*]</translation>
    </message>
    <message>
        <source>Quit Portico</source>
        <translation>Portico beenden</translation>
    </message>
    <message>
        <source>You have pending changes (%1) that are not applied. Quit and drop them?</source>
        <translation>Sie haben ausstehende Änderungen (%1), die nicht angewendet sind. Beenden und verwerfen?</translation>
    </message>
    <message>
        <source>the D-Bus system bus</source>
        <translation>den System-D-Bus</translation>
    </message>
    <message>
        <source>the D-Bus bus at %1</source>
        <translation>den D-Bus unter %1</translation>
    </message>
    <message>
        <source>&amp;Connections</source>
        <translation>&amp;Verbindungen</translation>
    </message>
    <message>
        <source>Show &amp;connections</source>
        <translation>&amp;Verbindungen zeigen</translation>
    </message>
    <message>
        <source>Chain f&amp;low</source>
        <translation>&amp;Kettenfluss</translation>
    </message>
    <message>
        <source>&amp;Why doesn&apos;t this work?</source>
        <translation>&amp;Warum funktioniert das nicht?</translation>
    </message>
    <message>
        <source>Check the usual reasons why the selected forward carries no traffic</source>
        <translation>Die üblichen Gründe prüfen, warum die gewählte Weiterleitung keinen Verkehr durchlässt</translation>
    </message>
</context>
<context>
    <name>portico::iptablesCommands</name>
    <message>
        <source># disabled: Portico keeps this forward out of the kernel</source>
        <translation># ausgeschaltet: Portico hält diese Weiterleitung aus dem Kernel heraus</translation>
    </message>
    <message>
        <source># LAN_SUBNET: the target&apos;s network</source>
        <translation># LAN_SUBNET: das Netz des Ziels</translation>
    </message>
</context>
</TS>
