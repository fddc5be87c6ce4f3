//! UI text in English and German. Every string the UI shows is a [`Msg`];
//! a missing translation is a compile error, not a blank on screen.

use domain::Language;
use domain::error::{AppError, Problem};

macro_rules! messages {
    ($($key:ident => $en:literal, $de:literal;)*) => {
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        pub enum Msg { $($key),* }

        impl Msg {
            pub fn text(self, lang: Language) -> &'static str {
                match (self, lang) {
                    $((Msg::$key, Language::En) => $en, (Msg::$key, Language::De) => $de,)*
                }
            }
        }
    };
}

messages! {
    // --- Activities (issue 6) ---
    NoActivities => "No activities match.", "Keine passenden Aktivitäten.";
    RecentActivities => "Recent activities", "Letzte Aktivitäten";
    AllActivities => "All activities", "Alle Aktivitäten";
    ActivityTime => "Time", "Zeit";
    Actor => "Who", "Wer";
    ActionName => "Action", "Aktion";
    ActionHint => "e.g. vm.start, or vm for every VM action", "z. B. vm.start, oder vm für alle VM-Aktionen";
    TargetName => "Object", "Objekt";
    Outcome => "Outcome", "Ergebnis";
    OutcomeOk => "ok", "ok";
    OutcomeFailed => "failed", "fehlgeschlagen";
    FromDay => "From", "Von";
    UntilDay => "Until", "Bis";
    SearchTargets => "Object name contains", "Objektname enthält";
    ExportCsv => "Export CSV", "CSV exportieren";
    FirstPage => "Newest", "Neueste";
    OlderPage => "Older", "Ältere";
    RequestId => "Request", "Anfrage";
    ClientAddress => "Address", "Adresse";
    ActivityStore => "Activity log", "Aktivitätsprotokoll";
    OutboxWaiting => "waiting to be stored", "warten auf Speicherung";
    OutboxOldest => "oldest from", "älteste von";
    HealthTitle => "Health", "Systemzustand";
    HealthDependencies => "Connections", "Verbindungen";
    HealthForwardingTarget => "Stored in", "Gespeichert in";
    HealthLastError => "Last forwarding error", "Letzter Weiterleitungsfehler";
    HealthQueued => "Queued", "Wartend";
    HealthRunning => "Running", "Laufend";
    HealthFailed => "Failed", "Fehlgeschlagen";
    HealthScheduler => "Scheduler leader", "Leitender Scheduler";
    HealthNoLeader => "No scheduler is running.", "Kein Scheduler läuft.";
    OwnActivitiesHint => "Your own activities.", "Ihre eigenen Aktivitäten.";
    AppTagline => "Virtual machines for every participant, in the browser.", "Virtuelle Maschinen für alle Teilnehmenden, im Browser.";
    SignIn => "Sign in", "Anmelden";
    SignOut => "Sign out", "Abmelden";
    Username => "Username", "Benutzername";
    Password => "Password", "Passwort";
    CurrentPassword => "Current password", "Aktuelles Passwort";
    NewPassword => "New password", "Neues Passwort";
    ConfirmPassword => "Repeat new password", "Neues Passwort wiederholen";
    Name => "Name", "Name";
    Email => "E-mail", "E-Mail";
    Language => "Language", "Sprache";
    Status => "Status", "Status";
    Roles => "Roles", "Rollen";
    Role => "Role", "Rolle";
    Key => "Key", "Schlüssel";
    Description => "Description", "Beschreibung";
    Permissions => "Permissions", "Berechtigungen";
    Value => "Value", "Wert";
    Type => "Type", "Typ";
    Visibility => "Visibility", "Sichtbarkeit";
    Actions => "Actions", "Aktionen";
    Save => "Save", "Speichern";
    Create => "Create", "Anlegen";
    Cancel => "Cancel", "Abbrechen";
    Delete => "Delete", "Löschen";
    Edit => "Edit", "Bearbeiten";
    Copy => "Copy", "Kopieren";
    Search => "Search", "Suchen";
    Filter => "Filter", "Filtern";
    Any => "Any", "Alle";
    Previous => "Previous", "Zurück";
    Next => "Next", "Weiter";
    PageOf => "Page {page} of {pages} ({total} in total)", "Seite {page} von {pages} ({total} insgesamt)";
    Loading => "Loading…", "Lädt…";
    Dashboard => "Dashboard", "Übersicht";
    Events => "Events", "Veranstaltungen";
    Environments => "Environments", "Umgebungen";
    Templates => "Templates", "Vorlagen";
    Vms => "VMs", "VMs";
    Users => "Users", "Benutzer";
    Activities => "Activities", "Aktivitäten";
    Settings => "Settings", "Einstellungen";
    Policies => "Terms of use", "Nutzungsbedingungen";
    Profile => "My account", "Mein Konto";
    MainNavigation => "Main navigation", "Hauptnavigation";
    SkipToContent => "Skip to content", "Zum Inhalt springen";
    Welcome => "Welcome, {name}", "Willkommen, {name}";
    DashboardIntro => "This is your OpenVLE overview. Your roles:", "Das ist Ihre OpenVLE-Übersicht. Ihre Rollen:";
    NoRoles => "No roles yet.", "Noch keine Rollen.";
    NotFoundTitle => "Page not found", "Seite nicht gefunden";
    NotFoundText => "There is nothing at this address.", "Unter dieser Adresse gibt es nichts.";
    BackHome => "Back to the dashboard", "Zurück zur Übersicht";
    NewUser => "New user", "Neuer Benutzer";
    NoUsers => "No users match this search.", "Keine Benutzer entsprechen dieser Suche.";
    SearchUsers => "Name, username or e-mail", "Name, Benutzername oder E-Mail";
    PasswordOptional => "Leave empty to let the person set it through an invitation.", "Leer lassen, damit die Person es über eine Einladung setzt.";
    LastLogin => "Last sign-in", "Letzte Anmeldung";
    Never => "never", "nie";
    Lock => "Lock account", "Konto sperren";
    Unlock => "Unlock account", "Konto entsperren";
    SetPassword => "Set password", "Passwort setzen";
    DeleteUserTitle => "Delete user {name}?", "Benutzer {name} löschen?";
    DeleteUserText => "The account and its sessions are removed. This cannot be undone.", "Das Konto und seine Sitzungen werden entfernt. Das lässt sich nicht rückgängig machen.";
    DeleteRoleTitle => "Delete role {name}?", "Rolle {name} löschen?";
    DeleteRoleText => "Only roles no one holds can be deleted. This cannot be undone.", "Nur Rollen, die niemand hat, können gelöscht werden. Das lässt sich nicht rückgängig machen.";
    YesDelete => "Yes, delete", "Ja, löschen";
    NewRole => "New role", "Neue Rolle";
    CopyRole => "Copy this role", "Diese Rolle kopieren";
    Members => "Members", "Mitglieder";
    ModelLevelHint => "Each permission applies to every object of its kind. Access to single objects is granted on the objects themselves.", "Jede Berechtigung gilt für alle Objekte ihrer Art. Zugriff auf einzelne Objekte wird am Objekt selbst vergeben.";
    ObjectType => "Object type", "Objekttyp";
    Level => "Access", "Zugriff";
    ReadOnly => "read-only", "nur lesbar";
    NewPolicy => "New terms of use", "Neue Nutzungsbedingungen";
    Content => "Content", "Inhalt";
    Active => "Active", "Aktiv";
    Inactive => "Inactive", "Inaktiv";
    Activate => "Activate", "Aktivieren";
    Deactivate => "Deactivate", "Deaktivieren";
    Accepted => "Accepted by", "Akzeptiert von";
    NoPolicies => "No terms of use yet.", "Noch keine Nutzungsbedingungen.";
    AcceptTitle => "Please accept the terms of use", "Bitte akzeptieren Sie die Nutzungsbedingungen";
    Accept => "I accept", "Ich akzeptiere";
    ChangePassword => "Change password", "Passwort ändern";
    PasswordRules => "At least 10 characters, mixing letters, digits and symbols (or 16+ characters).", "Mindestens 10 Zeichen mit Buchstaben, Ziffern und Sonderzeichen (oder 16+ Zeichen).";
    PasswordsDiffer => "The two new passwords differ.", "Die beiden neuen Passwörter unterscheiden sich.";
    EnableJsHint => "Works without JavaScript, too.", "Funktioniert auch ohne JavaScript.";
    ShowPassword => "Show password", "Passwort anzeigen";
    HidePassword => "Hide password", "Passwort verbergen";
    StatusActive => "active", "aktiv";
    StatusInactive => "inactive", "inaktiv";
    StatusEmailPending => "e-mail pending", "E-Mail ausstehend";
    StatusBanned => "banned", "gesperrt";
    LevelRead => "Read", "Lesen";
    LevelReadVmControl => "Read & VM control", "Lesen & VM-Steuerung";
    LevelReadEdit => "Read & edit", "Lesen & Bearbeiten";
    LevelFull => "Full access", "Vollzugriff";
    LevelCreate => "Create", "Anlegen";
    Tasks => "Tasks", "Aufgaben";
    Task => "Task", "Aufgabe";
    Steps => "Steps", "Schritte";
    Step => "Step", "Schritt";
    Progress => "Progress", "Fortschritt";
    Attempts => "Attempts", "Versuche";
    Created => "Created", "Erstellt";
    CreatedBy => "By", "Von";
    Updated => "Updated", "Aktualisiert";
    LastError => "Last error", "Letzter Fehler";
    NextRun => "Next try", "Nächster Versuch";
    RetryTask => "Retry from the failed step", "Ab dem fehlgeschlagenen Schritt wiederholen";
    CancelTask => "Cancel task", "Aufgabe abbrechen";
    StartWorkerCheck => "Check the workers", "Worker prüfen";
    Refresh => "Refresh", "Aktualisieren";
    NoTasks => "No tasks match.", "Keine passenden Aufgaben.";
    SystemActor => "system", "System";
    Since => "Created in", "Erstellt in";
    EventId => "Event (id)", "Veranstaltung (ID)";
    LastHour => "the last hour", "der letzten Stunde";
    LastDay => "the last day", "dem letzten Tag";
    LastWeek => "the last week", "der letzten Woche";
    AllTime => "any time", "beliebiger Zeit";
    TaskQueued => "queued", "wartend";
    TaskRunning => "running", "läuft";
    TaskFailed => "failed", "fehlgeschlagen";
    TaskSuccess => "done", "erledigt";
    TaskCancelled => "cancelled", "abgebrochen";
    // Proxmox VE cluster: connection, nodes, templates.
    Cluster => "Cluster", "Cluster";
    ProxmoxConnection => "Proxmox VE connection", "Proxmox-VE-Verbindung";
    Nodes => "Nodes", "Knoten";
    Node => "Node", "Knoten";
    ClusterTemplates => "Templates in the cluster", "Vorlagen im Cluster";
    ClusterTemplatesHint => "Template VMs of the pool; templates in OpenVLE are made from these.", "Vorlagen-VMs des Pools; daraus werden die Vorlagen in OpenVLE erstellt.";
    ConnectionUrl => "API address", "API-Adresse";
    // A form's web address field, in error messages (the Proxmox connection's and a quick link's).
    Url => "URL", "URL";
    ConnectionUrlHint => "https://host:8006 (port 8006 when none is given)", "https://host:8006 (Port 8006, wenn keiner angegeben ist)";
    TokenId => "API token id", "API-Token-ID";
    TokenIdHint => "user@realm!token, as Proxmox shows it", "benutzer@realm!token, wie Proxmox sie anzeigt";
    TokenSecret => "Token secret", "Token-Geheimnis";
    SecretSetHint => "••• (set). Leave empty to keep it.", "••• (gesetzt). Leer lassen, um es zu behalten.";
    SecretNotSetHint => "Not set yet.", "Noch nicht gesetzt.";
    Fingerprint => "Certificate fingerprint (SHA-256)", "Zertifikats-Fingerabdruck (SHA-256)";
    FingerprintHint => "Pins a self-signed certificate (AA:BB:…, as Proxmox shows it under the node's Certificates). Empty: the certificate must be signed by a trusted CA.", "Pinnt ein selbstsigniertes Zertifikat (AA:BB:…, wie Proxmox es bei den Zertifikaten des Knotens anzeigt). Leer: Das Zertifikat muss von einer vertrauenswürdigen CA stammen.";
    VerifyTls => "Verify the TLS certificate", "TLS-Zertifikat prüfen";
    VerifyTlsHint => "Turn off only for a lab with a self-signed certificate; pinning its fingerprint is safer.", "Nur für ein Labor mit selbstsigniertem Zertifikat abschalten; den Fingerabdruck zu pinnen ist sicherer.";
    Pool => "Pool", "Pool";
    PoolHint => "OpenVLE only lists and changes VMs of this pool.", "OpenVLE sieht und verändert nur VMs dieses Pools.";
    TestConnection => "Test connection", "Verbindung testen";
    ConnectionOk => "Connected to Proxmox VE {version}.", "Verbunden mit Proxmox VE {version}.";
    SourceSaved => "In use: the connection saved here (last saved {at} by {by}). A saved connection wins over the PVE_* environment variables.", "In Verwendung: die hier gespeicherte Verbindung (zuletzt gespeichert {at} von {by}). Eine gespeicherte Verbindung hat Vorrang vor den PVE_*-Umgebungsvariablen.";
    SourceEnvironment => "In use: the connection configured at start (PVE_* environment variables, or the demo's simulator). Saving here replaces it: from then on the saved connection wins.", "In Verwendung: die beim Start konfigurierte Verbindung (PVE_*-Umgebungsvariablen oder der Simulator der Demo). Speichern ersetzt sie: danach hat die gespeicherte Verbindung Vorrang.";
    SourceNone => "No cluster is connected yet. Enter the API address and token, save, then test.", "Noch kein Cluster verbunden. API-Adresse und Token eingeben, speichern, dann testen.";
    SecretKeyHint => "OPENVLE_SECRET_KEY is not set, so the token secret cannot be stored. Set it to 64 hex characters (openssl rand -hex 32) and restart.", "OPENVLE_SECRET_KEY ist nicht gesetzt, daher kann das Token-Geheimnis nicht gespeichert werden. Auf 64 Hex-Zeichen setzen (openssl rand -hex 32) und neu starten.";
    Online => "online", "online";
    Offline => "offline", "offline";
    Cpu => "CPU", "CPU";
    Memory => "Memory", "Arbeitsspeicher";
    Storage => "Storage", "Speicher";
    Cores => "Cores", "Kerne";
    Disk => "Disk", "Festplatte";
    Tags => "Tags", "Tags";
    // --- Tags and catalogue (issue 5) ---
    TagsFilter => "Tag", "Tag";
    TagsFilterHint => "name or name=value", "Name oder Name=Wert";
    TagsNone => "No tags yet.", "Noch keine Tags.";
    TagsNoMatch => "Nothing carries this tag.", "Nichts trägt dieses Tag.";
    TagsName => "Tag name", "Tag-Name";
    TagsValue => "Value (optional)", "Wert (optional)";
    TagsAdd => "Add tag", "Tag hinzufügen";
    TagsRemove => "Remove tag", "Tag entfernen";
    TagsSyntaxHint => "Letters a–z, digits, _ + . - (as in Proxmox); deployment copies a template's tags to its VMs.", "Buchstaben a–z, Ziffern, _ + . - (wie in Proxmox); die Bereitstellung überträgt die Tags einer Vorlage auf ihre VMs.";
    Catalogue => "Catalogue", "Katalog";
    CatalogueVendors => "Vendors", "Hersteller";
    CatalogueOperatingSystems => "Operating systems", "Betriebssysteme";
    CatalogueApplications => "Applications", "Anwendungen";
    CatalogueVendor => "Vendor", "Hersteller";
    CatalogueNoVendors => "No vendors yet.", "Noch keine Hersteller.";
    CatalogueNoOperatingSystems => "No operating systems yet.", "Noch keine Betriebssysteme.";
    CatalogueNoApplications => "No applications yet.", "Noch keine Anwendungen.";
    CatalogueVendorFirst => "Create a vendor first:", "Legen Sie zuerst einen Hersteller an:";
    CatalogueNew => "New entry", "Neuer Eintrag";
    CatalogueDeleteTitle => "Delete “{name}”?", "„{name}“ löschen?";
    CatalogueFromTemplate => "Taken from the VM's template.", "Von der Vorlage der VM übernommen.";
    CatalogueInUse => "Nothing was deleted: it is still used by {users}. Remove these links first.", "Nichts wurde gelöscht: Es wird noch verwendet von {users}. Entfernen Sie diese Verknüpfungen zuerst.";
    CatalogueUsedByOperatingSystems => "operating systems", "Betriebssystemen";
    CatalogueUsedByApplications => "applications", "Anwendungen";
    CatalogueUsedByTemplates => "templates", "Vorlagen";
    CatalogueUsedByEnvironments => "environments", "Umgebungen";
    CatalogueVmInherited => "A VM takes its operating system and applications from its template; change them there.", "Eine VM übernimmt Betriebssystem und Anwendungen von ihrer Vorlage; ändern Sie sie dort.";
    CatalogueProblemTag => "may only contain letters a–z, digits and _ + . - and must not start with + . -", "darf nur Buchstaben a–z, Ziffern und _ + . - enthalten und nicht mit + . - beginnen";
    CatalogueProblemTagReserved => "must not start with “openvle” (reserved for the VMs' owner tags)", "darf nicht mit „openvle“ beginnen (den Besitzer-Tags der VMs vorbehalten)";
    VmId => "VMID", "VMID";
    Version => "Version", "Version";
    UsageOf => "{used} of {total}", "{used} von {total}";
    CpuOf => "{cpus} CPUs", "{cpus} CPUs";
    NoNodes => "The cluster reports no nodes.", "Der Cluster meldet keine Knoten.";
    NoTemplates => "No template VMs in the pool yet. Convert a VM to a template in Proxmox and add it to the pool.", "Noch keine Vorlagen-VMs im Pool. In Proxmox eine VM in eine Vorlage umwandeln und dem Pool hinzufügen.";
    ErrClusterNotConfigured => "No Proxmox VE cluster is connected yet. An administrator sets it up under Cluster → Proxmox VE connection.", "Noch kein Proxmox-VE-Cluster verbunden. Die Administration richtet ihn unter Cluster → Proxmox-VE-Verbindung ein.";
    ErrClusterBadToken => "Proxmox VE rejected the API token: check the token id and secret ({message}).", "Proxmox VE hat das API-Token abgelehnt: Token-ID und Geheimnis prüfen ({message}).";
    ErrClusterForbidden => "The API token lacks a permission: {message}", "Dem API-Token fehlt eine Berechtigung: {message}";
    ErrClusterFingerprint => "The server's certificate does not match the pinned fingerprint. It presented {seen}.", "Das Zertifikat des Servers passt nicht zum gepinnten Fingerabdruck. Er zeigte {seen}.";
    ErrClusterFingerprintUnknown => "The server's certificate does not match the pinned fingerprint.", "Das Zertifikat des Servers passt nicht zum gepinnten Fingerabdruck.";
    ErrClusterUntrusted => "The server's certificate is not trusted ({detail}). Pin its fingerprint or use a certificate from a trusted CA.", "Dem Zertifikat des Servers wird nicht vertraut ({detail}). Fingerabdruck pinnen oder ein Zertifikat einer vertrauenswürdigen CA verwenden.";
    ErrClusterUnreachable => "Proxmox VE cannot be reached: {detail}", "Proxmox VE ist nicht erreichbar: {detail}";
    ErrClusterTimeout => "Proxmox VE did not answer in time ({secs} s).", "Proxmox VE hat nicht rechtzeitig geantwortet ({secs} s).";
    ErrClusterApi => "Proxmox VE answered with an error ({status}): {message}", "Proxmox VE hat mit einem Fehler geantwortet ({status}): {message}";
    ErrSecretKeyMissing => "OPENVLE_SECRET_KEY is not set, so the token secret can be neither stored nor read. Set it to 64 hex characters (openssl rand -hex 32) and restart.", "OPENVLE_SECRET_KEY ist nicht gesetzt, daher kann das Token-Geheimnis weder gespeichert noch gelesen werden. Auf 64 Hex-Zeichen setzen (openssl rand -hex 32) und neu starten.";
    ErrSecretUnreadable => "The saved token secret cannot be decrypted (OPENVLE_SECRET_KEY changed). Enter the secret again and save.", "Das gespeicherte Token-Geheimnis lässt sich nicht entschlüsseln (OPENVLE_SECRET_KEY wurde geändert). Geheimnis erneut eingeben und speichern.";
    ErrClusterSetup => "These connection settings cannot be used: {message}", "Diese Verbindungseinstellungen sind nicht verwendbar: {message}";
    ErrDirectoryUnreachable => "The directory is unreachable, so accounts of the institution cannot sign in right now. Please try again later.", "Das Verzeichnis ist nicht erreichbar, daher können sich Konten der Einrichtung gerade nicht anmelden. Bitte versuchen Sie es später erneut.";
    SignInWith => "Sign in with {name}", "Anmelden mit {name}";
    OrDivider => "or", "oder";
    ErrOidcExpired => "This sign-in attempt has expired or was already used. Please start again.", "Dieser Anmeldeversuch ist abgelaufen oder wurde schon verwendet. Bitte beginnen Sie erneut.";
    ErrOidcState => "The answer of the sign-in service did not belong to this sign-in attempt and was refused. Please start again.", "Die Antwort des Anmeldedienstes gehörte nicht zu diesem Anmeldeversuch und wurde abgelehnt. Bitte beginnen Sie erneut.";
    ErrOidcRejected => "The sign-in service did not confirm this sign-in. Please start again.", "Der Anmeldedienst hat diese Anmeldung nicht bestätigt. Bitte beginnen Sie erneut.";
    ErrOidcUnavailable => "Single sign-on is not available right now: the sign-in service cannot be reached or is not set up correctly. Local accounts can still sign in.", "Die zentrale Anmeldung ist gerade nicht verfügbar: Der Anmeldedienst ist nicht erreichbar oder nicht richtig eingerichtet. Lokale Konten können sich weiterhin anmelden.";
    ErrOidcDisabled => "Single sign-on is not enabled.", "Die zentrale Anmeldung ist nicht aktiviert.";
    ErrAccountBelongsElsewhere => "This username belongs to an account that signs in another way (password or directory), so single sign-on cannot use it. Please contact an administrator.", "Dieser Benutzername gehört zu einem Konto, das sich auf andere Weise anmeldet (Passwort oder Verzeichnis), daher kann die zentrale Anmeldung es nicht verwenden. Bitte wenden Sie sich an die Administration.";
    // Settings page: what each setting of the catalogue is for (`setting_text`).
    SettingBrandingTitle => "Title shown in the header and browser tab.", "Titel in der Kopfzeile und im Browser-Tab.";
    SettingContactMail => "Support address shown to users.", "Support-Adresse, die Benutzer:innen angezeigt wird.";
    SettingLocalLogin => "Allow users other than administrators to sign in with a local password.", "Anderen Benutzer:innen als Administrator:innen die Anmeldung mit lokalem Passwort erlauben.";
    SettingSessionLifetime => "How long a sign-in lasts without activity, in minutes.", "Wie lange eine Anmeldung ohne Aktivität gilt, in Minuten.";
    SettingTransitionPeriod => "Hours after an event's end before its VMs and connections are removed.", "Stunden nach dem Ende einer Veranstaltung, bevor ihre VMs und Verbindungen entfernt werden.";
    SettingActivityRetention => "Days activities are kept before they are purged.", "Tage, die Aktivitäten aufbewahrt werden, bevor sie gelöscht werden.";
    SettingSiteTimeZone => "IANA time zone (e.g. Europe/Berlin) for people who have not chosen their own.", "IANA-Zeitzone (z. B. Europe/Berlin) für alle, die keine eigene gewählt haben.";
    SettingSchemaSeeded => "Set by the installer once default roles and settings exist.", "Vom Installationsprogramm gesetzt, sobald Standardrollen und -einstellungen existieren.";
    // Admin sign-in page: LDAP and OpenID Connect.
    SignInMethods => "Sign-in", "Anmeldung";
    SignInMethodsIntro => "How people sign in. These settings come from the server's environment (the variables named with each method); change them there and restart.", "Wie sich Personen anmelden. Diese Einstellungen stammen aus der Umgebung des Servers (die bei jeder Methode genannten Variablen); ändern Sie sie dort und starten Sie neu.";
    LocalAccounts => "Local accounts", "Lokale Konten";
    LocalLoginOn => "Users other than administrators may sign in with a local password.", "Auch Personen ohne Administrationsrechte dürfen sich mit einem lokalen Passwort anmelden.";
    LocalLoginOff => "Only administrators may sign in with a local password.", "Nur Administrierende dürfen sich mit einem lokalen Passwort anmelden.";
    ChangeInSettings => "Change in Settings", "In den Einstellungen ändern";
    DirectoryLdap => "Directory (LDAP)", "Verzeichnis (LDAP)";
    SingleSignOn => "Single sign-on (OpenID Connect)", "Zentrale Anmeldung (OpenID Connect)";
    NotConfigured => "Not configured.", "Nicht eingerichtet.";
    LdapHowTo => "Set LDAP_ENABLED=true, LDAP_URL and the other LDAP_* variables to let people sign in with their directory account.", "Setzen Sie LDAP_ENABLED=true, LDAP_URL und die übrigen LDAP_*-Variablen, damit sich Personen mit ihrem Verzeichniskonto anmelden können.";
    OidcHowTo => "Set OIDC_ENABLED=true, OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_REDIRECT_URL to offer single sign-on.", "Setzen Sie OIDC_ENABLED=true, OIDC_ISSUER, OIDC_CLIENT_ID und OIDC_REDIRECT_URL, um die zentrale Anmeldung anzubieten.";
    Variable => "Variable", "Variable";
    RoleRules => "Role rules (first match wins)", "Rollenregeln (die erste passende gilt)";
    TestLookup => "Test: look a user up", "Test: eine Person nachschlagen";
    TestLookupHint => "Binds with the service account and shows what a sign-in would make of this user. Changes nothing.", "Meldet sich mit dem Dienstkonto an und zeigt, was eine Anmeldung aus dieser Person machen würde. Ändert nichts.";
    Test => "Test", "Testen";
    TestProvider => "Test: fetch discovery and signing keys", "Test: Discovery und Signaturschlüssel abrufen";
    NoDirectoryEntry => "No directory entry matches {username}.", "Kein Verzeichniseintrag passt zu {username}.";
    MappedRole => "Role at next sign-in", "Rolle bei der nächsten Anmeldung";
    AccountDisabledInDirectory => "Disabled in the directory: cannot sign in", "Im Verzeichnis deaktiviert: kann sich nicht anmelden";
    Issuer => "Issuer", "Aussteller";
    Endpoints => "Endpoints", "Endpunkte";
    SigningKeys => "Signing keys", "Signaturschlüssel";
    Warnings => "Warnings", "Warnungen";
    ProviderOk => "The provider answered and its keys were loaded.", "Der Anbieter hat geantwortet und seine Schlüssel wurden geladen.";
    ErrCheckFailed => "{system} test failed: {message}", "{system}-Test fehlgeschlagen: {message}";
    ErrLdapNotConfigured => "LDAP sign-in is not configured.", "Die LDAP-Anmeldung ist nicht eingerichtet.";
    ErrOidcNotConfigured => "Single sign-on (OpenID Connect) is not configured.", "Die zentrale Anmeldung (OpenID Connect) ist nicht eingerichtet.";
    // Flash messages after a successful action.
    FlashQueued => "Queued: a worker picks it up shortly.", "Eingereiht: ein Worker übernimmt in Kürze.";
    FlashSaved => "Saved.", "Gespeichert.";
    FlashCreated => "Created.", "Angelegt.";
    FlashDeleted => "Deleted.", "Gelöscht.";
    FlashPasswordChanged => "Password changed. Other sessions were signed out.", "Passwort geändert. Andere Sitzungen wurden abgemeldet.";
    FlashSignedOut => "You are signed out.", "Sie sind abgemeldet.";
    FlashAccepted => "Thank you.", "Danke.";
    // Errors.
    ErrNotSignedIn => "Please sign in first.", "Bitte melden Sie sich zuerst an.";
    ErrForbidden => "You are not allowed to do this.", "Dazu sind Sie nicht berechtigt.";
    ErrNotFound => "Not found: it does not exist (any more), or it is not yours to see.", "Nicht gefunden: Das gibt es nicht (mehr), oder Sie dürfen es nicht sehen.";
    ErrInvalidCredentials => "Wrong username or password.", "Benutzername oder Passwort ist falsch.";
    ErrAccountInactive => "This account is deactivated. Please contact your administrator.", "Dieses Konto ist deaktiviert. Bitte wenden Sie sich an die Administration.";
    ErrAccountBanned => "This account is locked. Please contact your administrator.", "Dieses Konto ist gesperrt. Bitte wenden Sie sich an die Administration.";
    ErrAccountPending => "This account has no password yet. Use the link in your invitation e-mail.", "Dieses Konto hat noch kein Passwort. Nutzen Sie den Link aus Ihrer Einladung.";
    ErrRateLimited => "Too many failed attempts. Try again in {minutes} minute(s).", "Zu viele Fehlversuche. Versuchen Sie es in {minutes} Minute(n) erneut.";
    ErrPolicyRequired => "Please accept the terms of use first.", "Bitte akzeptieren Sie zuerst die Nutzungsbedingungen.";
    ErrBadRequest => "The form was incomplete or malformed. Please reload the page and try again.", "Das Formular war unvollständig. Bitte laden Sie die Seite neu und versuchen Sie es erneut.";
    ErrUnreachable => "The server could not be reached. Check your connection and try again.", "Der Server ist nicht erreichbar. Bitte Verbindung prüfen und erneut versuchen.";
    ErrInternal => "Something went wrong on the server (reference {reference}). Please try again; if it persists, tell your administrator the reference.", "Auf dem Server ist ein Fehler aufgetreten (Referenz {reference}). Bitte erneut versuchen; bei Wiederholung die Referenz an die Administration melden.";
    ErrLastAdmin => "This is the last active administrator; keep at least one.", "Das ist die letzte aktive Administration; mindestens eine muss bleiben.";
    ErrOwnAccount => "You cannot do this to your own account.", "Das ist mit dem eigenen Konto nicht möglich.";
    ErrRoleInUse => "The role is still assigned to users.", "Die Rolle ist noch Benutzern zugewiesen.";
    ErrDefaultRole => "Default roles cannot be deleted.", "Standardrollen können nicht gelöscht werden.";
    ErrAdminEssentials => "The administrator role must keep full access to users and roles.", "Die Administrationsrolle muss Vollzugriff auf Benutzer und Rollen behalten.";
    ErrInternalSetting => "This setting is managed by the system and read-only.", "Diese Einstellung wird vom System verwaltet und ist nur lesbar.";
    ErrExternalAccount => "This account signs in through the directory; its password is managed there.", "Dieses Konto meldet sich über das Verzeichnis an; das Passwort wird dort verwaltet.";
    ErrLocalLoginDisabled => "Local sign-in is turned off; use your institution's sign-in.", "Die lokale Anmeldung ist abgeschaltet; nutzen Sie die Anmeldung Ihrer Einrichtung.";
    ErrPolicyInactive => "These terms of use are no longer active.", "Diese Nutzungsbedingungen sind nicht mehr aktiv.";
    ErrTaskNotFailed => "Only failed tasks can be retried.", "Nur fehlgeschlagene Aufgaben können wiederholt werden.";
    ErrTaskNotQueued => "Only tasks that have not started can be cancelled.", "Nur Aufgaben, die noch nicht begonnen haben, können abgebrochen werden.";
    ErrConflict => "This is not possible in the current state.", "Das ist im aktuellen Zustand nicht möglich.";
    ProblemRequired => "is required", "ist erforderlich";
    ProblemTooShort => "must have at least {n} characters", "muss mindestens {n} Zeichen haben";
    ProblemTooLong => "must have at most {n} characters", "darf höchstens {n} Zeichen haben";
    ProblemFormatUsername => "may only contain lowercase letters, digits, '.', '_', '-' and '@', starting with a letter or digit", "darf nur Kleinbuchstaben, Ziffern, '.', '_', '-' und '@' enthalten und muss mit Buchstabe oder Ziffer beginnen";
    ProblemFormatEmail => "is not a valid e-mail address", "ist keine gültige E-Mail-Adresse";
    ProblemFormatKey => "may only contain lowercase letters, digits, '_' and '-', starting with a letter", "darf nur Kleinbuchstaben, Ziffern, '_' und '-' enthalten und muss mit einem Buchstaben beginnen";
    ProblemFormatLine => "must be a single line", "muss einzeilig sein";
    ProblemFormatCurrentPassword => "is not your current password", "ist nicht Ihr aktuelles Passwort";
    ProblemFormatOther => "has the wrong format (expected {expected})", "hat das falsche Format (erwartet: {expected})";
    ProblemWeakCommon => "is one of the most common passwords", "gehört zu den häufigsten Passwörtern";
    ProblemWeakUsername => "must not contain the username", "darf den Benutzernamen nicht enthalten";
    ProblemWeakVariety => "needs three of: lowercase, uppercase, digits, symbols (or 16+ characters)", "braucht drei von: Klein-, Großbuchstaben, Ziffern, Sonderzeichen (oder 16+ Zeichen)";
    ProblemTaken => "is already in use", "wird bereits verwendet";
    ProblemOutOfRange => "must be between {min} and {max}", "muss zwischen {min} und {max} liegen";
    // Classroom (issue 5): templates, environments, events, participants, VMs.
    NoVmTemplates => "No VM templates yet. Create one or import it from the cluster.", "Noch keine VM-Vorlagen. Legen Sie eine an oder importieren Sie sie aus dem Cluster.";
    ImportFromCluster => "Import from cluster", "Aus dem Cluster importieren";
    NoClusterTemplates => "The cluster's pool holds no template VMs.", "Der Pool des Clusters enthält keine Vorlagen-VMs.";
    Import => "Import", "Importieren";
    NewTemplate => "New template", "Neue Vorlage";
    Template => "Template", "Vorlage";
    OperatingSystem => "Operating system", "Betriebssystem";
    OperatingSystemLabel => "Operating system (as listed)", "Betriebssystem (wie aufgelistet)";
    OperatingSystemLabelHint => "Free text shown in the template list, e.g. Debian 12. The catalogue entry is chosen under Catalogue on the template's page.", "Freitext für die Vorlagenliste, z. B. Debian 12. Der Katalogeintrag wird auf der Seite der Vorlage unter Katalog gewählt.";
    ProxmoxTemplate => "Proxmox template", "Proxmox-Vorlage";
    Resources => "Resources", "Ressourcen";
    DescriptionMarkdown => "Description (Markdown)", "Beschreibung (Markdown)";
    ProxmoxVmid => "Template VMID in Proxmox", "VMID der Vorlage in Proxmox";
    MemoryMib => "Memory (MiB)", "Arbeitsspeicher (MiB)";
    DiskGib => "Disk (GiB)", "Festplatte (GiB)";
    LinkedCloneAllowed => "Linked clones allowed (faster, share the template's disk)", "Verknüpfte Klone erlaubt (schneller, teilen die Festplatte der Vorlage)";
    Protocol => "Protocol", "Protokoll";
    Port => "Port", "Port";
    PortHint => "Empty: the protocol's default (SSH 22, RDP 3389, VNC 5900).", "Leer: Standard des Protokolls (SSH 22, RDP 3389, VNC 5900).";
    ConnectionUsername => "Connection username", "Benutzername der Verbindung";
    ConnectionPassword => "Connection password", "Passwort der Verbindung";
    // Connection templates and Guacamole (issue 9).
    ConnTemplates => "Connection templates", "Verbindungsvorlagen";
    ConnTemplatesHint => "How VMs cloned from this template are reached through Guacamole. A connection template is not edited: delete it and create it anew. Deployed events keep the ones they were deployed with.", "Wie von dieser Vorlage geklonte VMs über Guacamole erreicht werden. Eine Verbindungsvorlage wird nicht bearbeitet: löschen und neu anlegen. Bereitgestellte Veranstaltungen behalten ihre.";
    ConnTemplatesVmHint => "For this VM only, instead of its template's connection templates.", "Nur für diese VM, statt der Verbindungsvorlagen ihrer Vorlage.";
    NoConnTemplates => "No connection templates yet.", "Noch keine Verbindungsvorlagen.";
    ConnAdd => "Add a connection template", "Verbindungsvorlage hinzufügen";
    ConnPasswordHint => "Stored encrypted and never shown again.", "Wird verschlüsselt gespeichert und nie wieder angezeigt.";
    ConnPasswordStored => "password stored", "Passwort gespeichert";
    ConnNoPassword => "no password", "kein Passwort";
    RdpSecurityLabel => "RDP security", "RDP-Sicherheit";
    RdpSecurityAny => "Negotiate", "Aushandeln";
    IgnoreCert => "Accept the VM's self-signed certificate (RDP)", "Selbstsigniertes Zertifikat der VM akzeptieren (RDP)";
    IgnoreCertShort => "any certificate", "jedes Zertifikat";
    ConfirmDeleteConn => "Yes, delete", "Ja, löschen";
    ConsoleKind => "Console", "Konsole";
    ConsoleDefault => "Default (Guacamole when configured, else built-in)", "Standard (Guacamole, falls eingerichtet, sonst eingebaut)";
    ConsoleBuiltin => "Built-in console", "Eingebaute Konsole";
    ConsoleGuacamole => "Apache Guacamole", "Apache Guacamole";
    GuacTitle => "Apache Guacamole", "Apache Guacamole";
    GuacSourceSaved => "In use: the connection saved here (last saved {at} by {by}). It wins over the GUACAMOLE_* environment variables.", "In Verwendung: die hier gespeicherte Verbindung (zuletzt gespeichert {at} von {by}). Sie hat Vorrang vor den GUACAMOLE_*-Umgebungsvariablen.";
    GuacSourceEnvironment => "In use: the connection configured at start (GUACAMOLE_* environment variables). Saving here replaces it: from then on the saved connection wins.", "In Verwendung: die beim Start konfigurierte Verbindung (GUACAMOLE_*-Umgebungsvariablen). Speichern ersetzt sie: danach hat die gespeicherte Verbindung Vorrang.";
    GuacSourceNone => "Guacamole is not configured: VMs use the built-in console. Enter Guacamole's address and admin account, save, then test.", "Guacamole ist nicht eingerichtet: VMs nutzen die eingebaute Konsole. Adresse und Admin-Konto von Guacamole eingeben, speichern, dann testen.";
    GuacUrl => "Guacamole URL", "Guacamole-URL";
    GuacUrlHint => "Guacamole's web application, e.g. https://guacamole.example.org/guacamole/", "Die Web-Anwendung von Guacamole, z. B. https://guacamole.example.org/guacamole/";
    GuacAdminUsername => "Admin username", "Admin-Benutzername";
    GuacAdminUsernameHint => "The Guacamole administrator that manages users, connections and permissions.", "Die Guacamole-Administrator:in, die Benutzer, Verbindungen und Berechtigungen verwaltet.";
    GuacAdminPassword => "Admin password", "Admin-Passwort";
    GuacDataSource => "Data source", "Datenquelle";
    GuacDataSourceHint => "mysql, postgresql, …; empty: the one Guacamole names at sign-in.", "mysql, postgresql, …; leer: die, die Guacamole bei der Anmeldung nennt.";
    GuacSsoMethod => "Single sign-on", "Einmalanmeldung";
    GuacSsoJson => "Encrypted JSON assertion (guacamole-auth-json)", "Verschlüsselte JSON-Zusicherung (guacamole-auth-json)";
    GuacSsoNone => "None: Connect opens Guacamole's own sign-in page", "Keine: Verbinden öffnet die Anmeldeseite von Guacamole";
    GuacSsoHint => "guacamole-auth-json signs participants in with a one-time link; install the extension next to the database extension with the same JSON secret key. With none, participants sign in at Guacamole with an account Guacamole itself knows (e.g. its LDAP or OpenID extension, same usernames): the accounts OpenVLE creates have passwords nobody knows.", "guacamole-auth-json meldet Teilnehmende mit einem Einmal-Link an; die Erweiterung neben der Datenbank-Erweiterung mit demselben JSON-Schlüssel installieren. Bei „Keine“ melden sich Teilnehmende bei Guacamole mit einem Konto an, das Guacamole selbst kennt (z. B. über dessen LDAP- oder OpenID-Erweiterung, gleiche Benutzernamen): Die von OpenVLE angelegten Konten haben Passwörter, die niemand kennt.";
    GuacJsonSecret => "JSON secret key", "JSON-Schlüssel";
    GuacJsonSecretHint => "32 hexadecimal digits: Guacamole's json-secret-key.", "32 Hexadezimalziffern: json-secret-key von Guacamole.";
    GuacSecretKeyHint => "OPENVLE_SECRET_KEY is not set, so the Guacamole secrets cannot be stored. Set it to 64 hex characters (openssl rand -hex 32) and restart.", "OPENVLE_SECRET_KEY ist nicht gesetzt, daher können die Guacamole-Geheimnisse nicht gespeichert werden. Auf 64 Hex-Zeichen setzen (openssl rand -hex 32) und neu starten.";
    GuacProblemKeyMissing => "OPENVLE_SECRET_KEY is not set, so the saved Guacamole secrets cannot be read. Set it and restart.", "OPENVLE_SECRET_KEY ist nicht gesetzt, daher können die gespeicherten Guacamole-Geheimnisse nicht gelesen werden. Setzen und neu starten.";
    GuacProblemUnreadable => "The saved Guacamole secrets do not decrypt with OPENVLE_SECRET_KEY (was the key changed?). Enter the admin password and the JSON secret key again.", "Die gespeicherten Guacamole-Geheimnisse lassen sich mit OPENVLE_SECRET_KEY nicht entschlüsseln (wurde der Schlüssel geändert?). Admin-Passwort und JSON-Schlüssel erneut eingeben.";
    GuacProblemSetup => "The saved settings cannot be used: {message}", "Die gespeicherten Einstellungen sind nicht verwendbar: {message}";
    GuacTestOk => "Guacamole answered; data source: {name}", "Guacamole hat geantwortet; Datenquelle: {name}";
    GuacConnections => "Guacamole connections", "Guacamole-Verbindungen";
    GuacGranted => "open for the owner", "für die Besitzer:in offen";
    GuacNotGranted => "closed (event not active)", "geschlossen (Veranstaltung nicht aktiv)";
    GuacPending => "not created yet", "noch nicht angelegt";
    ErrGuacNotConfigured => "Apache Guacamole is not configured.", "Apache Guacamole ist nicht eingerichtet.";
    ErrGuacNotReady => "The VM's Guacamole connection is not ready (the event is not active, or it is still being created).", "Die Guacamole-Verbindung der VM ist nicht bereit (Veranstaltung nicht aktiv oder noch in Arbeit).";
    ErrConnTemplateDuplicate => "There is already a connection template with this protocol and port.", "Es gibt bereits eine Verbindungsvorlage mit diesem Protokoll und Port.";
    DeleteTemplateTitle => "Delete template {name}?", "Vorlage {name} löschen?";
    CannotBeUndone => "This cannot be undone.", "Das kann nicht rückgängig gemacht werden.";
    VmsPerParticipant => "VMs per participant", "VMs pro Teilnehmer:in";
    VmsPerParticipantHint => "0 leaves a template out.", "0 lässt eine Vorlage weg.";
    NoEnvironments => "No environments yet.", "Noch keine Umgebungen.";
    NewEnvironment => "New environment", "Neue Umgebung";
    Environment => "Environment", "Umgebung";
    EnvironmentEditHint => "Changes apply to planned events; deployed events keep the templates they were deployed with.", "Änderungen gelten für geplante Veranstaltungen; bereitgestellte behalten ihre Vorlagen.";
    DeleteEnvironmentTitle => "Delete environment {name}?", "Umgebung {name} löschen?";
    TabPlanned => "Planned", "Geplant";
    TabActive => "Active", "Aktiv";
    TabCompleted => "Completed", "Abgeschlossen";
    NewEvent => "New event", "Neue Veranstaltung";
    EditEvent => "Edit event", "Veranstaltung bearbeiten";
    NoEvents => "No events here.", "Hier gibt es keine Veranstaltungen.";
    Event => "Event", "Veranstaltung";
    ShortName => "Short name", "Kurzname";
    ShortNameHint => "4–8 characters: a–z, 0–9, _ and -. Part of every VM name.", "4–8 Zeichen: a–z, 0–9, _ und -. Teil jedes VM-Namens.";
    Starts => "Starts", "Beginn";
    Ends => "Ends", "Ende";
    StartsInZone => "Starts, in {zone}", "Beginn, in {zone}";
    EndsInZone => "Ends, in {zone}", "Ende, in {zone}";
    EndsHint => "Empty: runs until ended by hand.", "Leer: läuft, bis sie von Hand beendet wird.";
    FailureReason => "Why it failed", "Fehlergrund";
    Participants => "Participants", "Teilnehmende";
    Participant => "Participant", "Teilnehmer:in";
    AddParticipants => "Add existing users", "Vorhandene Benutzer hinzufügen";
    Usernames => "Usernames", "Benutzernamen";
    UsernamesHint => "Several separated by commas or spaces.", "Mehrere durch Kommas oder Leerzeichen getrennt.";
    Add => "Add", "Hinzufügen";
    AddGroup => "Add a group", "Gruppe hinzufügen";
    Groups => "Groups", "Gruppen";
    Group => "Group", "Gruppe";
    NoGroups => "No groups yet.", "Noch keine Gruppen.";
    NewGroup => "New group", "Neue Gruppe";
    CreateParticipant => "Create a user and add them", "Benutzer anlegen und hinzufügen";
    EventRoleLabel => "Role in the event", "Rolle in der Veranstaltung";
    RoleInstructor => "Instructor", "Lehrende:r";
    RoleStudent => "Student", "Lernende:r";
    EventAdmin => "Gets failure notices", "Erhält Fehlermeldungen";
    Yes => "yes", "ja";
    No => "no", "nein";
    Remove => "Remove", "Entfernen";
    NoVmsYet => "No VMs yet: they are created when the event is deployed.", "Noch keine VMs: Sie entstehen bei der Bereitstellung der Veranstaltung.";
    VmsRemoved => "The event is over: its VMs have been removed.", "Die Veranstaltung ist vorbei: Ihre VMs wurden entfernt.";
    DeleteEventTitle => "Delete event {name}?", "Veranstaltung {name} löschen?";
    ImportRoster => "Import a roster (CSV)", "Teilnehmerliste importieren (CSV)";
    BackToEvent => "Back to the event", "Zurück zur Veranstaltung";
    RosterHelp => "One person per line: username, name, e-mail, role (student or instructor; empty = student), language (en or de; empty = en). A header line is optional. Unknown users are created in that language and invited by e-mail; existing ones are added as they are. Nothing is imported while any line has an error.", "Eine Person pro Zeile: Benutzername, Name, E-Mail, Rolle (student oder instructor; leer = student), Sprache (en oder de; leer = en). Eine Kopfzeile ist optional. Unbekannte Benutzer werden in dieser Sprache angelegt und per E-Mail eingeladen; vorhandene unverändert hinzugefügt. Solange eine Zeile fehlerhaft ist, wird nichts importiert.";
    RosterCsv => "CSV", "CSV";
    CheckRoster => "Check", "Prüfen";
    RosterPreview => "Preview", "Vorschau";
    RosterHasErrors => "These lines must be fixed before anything is imported:", "Diese Zeilen müssen korrigiert werden, bevor etwas importiert wird:";
    RosterLine => "Line {line}", "Zeile {line}";
    RosterNew => "new account", "neues Konto";
    RosterExisting => "existing account", "vorhandenes Konto";
    RosterAlready => "already taking part", "nimmt bereits teil";
    ConfirmImport => "Import", "Importieren";
    NoVms => "No VMs match.", "Keine VMs gefunden.";
    OnCluster => "On the cluster", "Im Cluster";
    MissingOnCluster => "missing: the template VM is not in the pool", "fehlt: die Vorlagen-VM ist nicht im Pool";
    NotCheckedYet => "not checked yet", "noch nicht geprüft";
    UpdatedAt => "Updated", "Aktualisiert";
    MyVms => "My VMs", "Meine VMs";
    NoMyEvents => "You take part in no upcoming or running event.", "Sie nehmen an keiner kommenden oder laufenden Veranstaltung teil.";
    EventNotStarted => "This event starts on {at}; your VMs are prepared then.", "Diese Veranstaltung beginnt am {at}; Ihre VMs werden dann bereitgestellt.";
    EventPreparing => "Your VMs are being prepared.", "Ihre VMs werden vorbereitet.";
    EventEnded => "This event has ended; its VMs are being removed.", "Diese Veranstaltung ist beendet; ihre VMs werden entfernt.";
    FlashImported => "Imported.", "Importiert.";
    StatusPlanned => "planned", "geplant";
    Menu => "Menu", "Menü";
    Administration => "Administration", "Verwaltung";
    MailOnEventDeployed => "Event deployed", "Veranstaltung bereitgestellt";
    MailOnEventDeploymentFailed => "Event deployment failed", "Bereitstellung fehlgeschlagen";
    MailOnDecommissionStarted => "Event removal started", "Abbau der Veranstaltung begonnen";
    MailOnDecommissionFailed => "Event removal failed", "Abbau der Veranstaltung fehlgeschlagen";
    MailOnAccountInvitation => "Account created (invitation)", "Konto angelegt (Einladung)";
    MailOnPasswordReset => "Password reset", "Passwort zurücksetzen";
    MailOnEventStarting => "Event starting", "Veranstaltung beginnt";
    MailOnVmsReady => "VMs ready", "VMs bereit";
    MailOnEventEndingSoon => "Event ending soon", "Veranstaltung endet bald";
    StatusDeploying => "deploying", "wird bereitgestellt";
    StatusRunning => "running", "läuft";
    StatusEnding => "ended (transition period)", "beendet (Übergangszeit)";
    StatusDecommissioning => "removing VMs", "VMs werden entfernt";
    StatusFinished => "finished", "abgeschlossen";
    StatusFailed => "failed", "fehlgeschlagen";
    VmPending => "waiting", "wartet";
    VmCloning => "cloning", "wird geklont";
    VmStarting => "starting", "startet";
    VmRunning => "running", "läuft";
    VmPaused => "paused", "pausiert";
    VmStopped => "stopped", "gestoppt";
    VmDeleting => "deleting", "wird gelöscht";
    VmFailed => "failed", "fehlgeschlagen";
    ErrTemplateInUse => "The template is part of an environment; remove it there first.", "Die Vorlage gehört zu einer Umgebung; entfernen Sie sie dort zuerst.";
    ErrEnvironmentInUse => "Events use this environment; it cannot be deleted.", "Veranstaltungen nutzen diese Umgebung; sie kann nicht gelöscht werden.";
    ErrEventNotPlanned => "The event has been deployed; its name, dates and environment no longer change.", "Die Veranstaltung ist bereitgestellt; Name, Termine und Umgebung ändern sich nicht mehr.";
    ErrEventHasVms => "The event still has VMs; end it first.", "Die Veranstaltung hat noch VMs; beenden Sie sie zuerst.";
    ErrEnvironmentEmpty => "The event's environment has no VMs: add templates to it before deploying.", "Die Umgebung der Veranstaltung hat keine VMs: Fügen Sie ihr vor der Bereitstellung Vorlagen hinzu.";
    EnvironmentNoVms => "This environment has no VMs yet: give at least one template a count, or events using it cannot be deployed.", "Diese Umgebung hat noch keine VMs: Geben Sie mindestens einer Vorlage eine Anzahl, sonst können Veranstaltungen mit ihr nicht bereitgestellt werden.";
    EnvironmentNoVmsShort => "no VMs yet", "noch keine VMs";
    ErrEventOver => "The event is over: it takes no new participants.", "Die Veranstaltung ist vorbei: Sie nimmt keine neuen Teilnehmenden auf.";
    ErrRosterHasErrors => "The roster has errors; nothing was imported.", "Die Teilnehmerliste enthält Fehler; nichts wurde importiert.";
    ErrInvitationsNotQueued => "The roster was imported, but some invitation mails could not be queued. Import it again to send them (nobody gets a second one).", "Die Teilnehmerliste wurde importiert, aber einige Einladungen konnten nicht eingereiht werden. Importieren Sie sie erneut, um sie zu senden (niemand erhält eine zweite).";
    ErrEventStatusMove => "The event cannot go to that status from where it is.", "Die Veranstaltung kann aus ihrem Status nicht dorthin wechseln.";
    ErrEventNotDeployed => "The event has not been deployed yet.", "Die Veranstaltung ist noch nicht bereitgestellt.";
    // Deployment (issue 5): deploy, end, VM power actions.
    DeployNow => "Deploy now", "Jetzt bereitstellen";
    DeployAgain => "Deploy again", "Erneut bereitstellen";
    BackToPlanning => "Back to planning", "Zurück zur Planung";
    BackToPlanningHint => "Nothing was created on the cluster for this event. Back in planning you can change its environment, dates and participants, then deploy it again.", "Für diese Veranstaltung wurde nichts auf dem Cluster angelegt. Zurück in der Planung können Sie Umgebung, Termine und Teilnehmende ändern und sie dann erneut bereitstellen.";
    ErrEventNotFailed => "Only an event whose deployment failed can go back to planning.", "Nur eine Veranstaltung, deren Bereitstellung fehlgeschlagen ist, kann zur Planung zurück.";
    ErrClusterNotAsked => "Proxmox VE could not be asked whether this event has VMs there; try again shortly.", "Proxmox VE konnte nicht gefragt werden, ob diese Veranstaltung dort VMs hat; versuchen Sie es gleich noch einmal.";
    VmNotCreated => "not created", "nicht angelegt";
    DeployWhatFits => "Deploy what fits: leave out the VMs no node has room for", "Bereitstellen, was passt: VMs ohne Platz auf einem Knoten weglassen";
    EndNow => "End now", "Jetzt beenden";
    ConfirmEnd => "Yes, stop and delete every VM of this event", "Ja, alle VMs dieser Veranstaltung anhalten und löschen";
    ConfirmAction => "Yes, I am sure", "Ja, ich bin sicher";
    Deployment => "Deployment", "Bereitstellung";
    DeploymentLive => "VM states update by themselves; without JavaScript use Refresh.", "VM-Zustände aktualisieren sich selbst; ohne JavaScript: Aktualisieren.";
    VmStart => "Start", "Starten";
    VmShutdown => "Shut down", "Herunterfahren";
    VmStop => "Power off", "Ausschalten";
    VmReboot => "Reboot", "Neu starten";
    VmPause => "Pause", "Pausieren";
    VmResume => "Resume", "Fortsetzen";
    VmResetToTemplate => "Reset to template", "Auf Vorlage zurücksetzen";
    VmResetHint => "Deletes the VM with everything on it and clones it afresh.", "Löscht die VM samt Inhalt und klont sie neu.";
    FlashDone => "Done.", "Erledigt.";
    Confirmation => "The confirmation", "Die Bestätigung";
    ErrEventDeploying => "The event is being deployed; wait until that has finished.", "Die Veranstaltung wird gerade bereitgestellt; warten Sie, bis das abgeschlossen ist.";
    ErrEventNotDeployable => "The event is ending or over; it cannot be deployed.", "Die Veranstaltung endet oder ist vorbei; sie kann nicht bereitgestellt werden.";
    ErrEventStatusChanged => "The event's status changed meanwhile; reload the page.", "Der Status der Veranstaltung hat sich inzwischen geändert; laden Sie die Seite neu.";
    ErrEventEnding => "The event is being ended already.", "Die Veranstaltung wird bereits beendet.";
    ErrEventNotRunning => "The event is not running; its VMs cannot be used now.", "Die Veranstaltung läuft nicht; ihre VMs sind gerade nicht nutzbar.";
    ErrVmNotOnCluster => "The VM is not on the cluster (yet); wait for the deployment or ask the instructor.", "Die VM ist (noch) nicht im Cluster; warten Sie auf die Bereitstellung oder fragen Sie die Lehrkraft.";
    ErrVmLocked => "The VM is busy with another task; try again in a moment.", "Die VM ist mit einer anderen Aufgabe beschäftigt; versuchen Sie es gleich noch einmal.";
    ErrNodeOffline => "The VM's node is offline; try again when it is back.", "Der Knoten der VM ist offline; versuchen Sie es, wenn er wieder da ist.";
    ErrVmActionFailed => "Proxmox VE refused the action; the server log has its message.", "Proxmox VE hat die Aktion abgelehnt; das Serverprotokoll enthält die Meldung.";
    ErrVmNames => "The event's VM names collide; check the participants' usernames.", "Die VM-Namen der Veranstaltung kollidieren; prüfen Sie die Benutzernamen.";
    ErrProvisioningNotConfigured => "VM provisioning is not set up on this server.", "Die VM-Bereitstellung ist auf diesem Server nicht eingerichtet.";
    ProblemFormatShortName => "may contain only a–z, 0–9, _ and -", "darf nur a–z, 0–9, _ und - enthalten";
    ProblemFormatAfterStart => "must be after the start", "muss nach dem Beginn liegen";
    ProblemFormatFuture => "must be in the future", "muss in der Zukunft liegen";
    ProblemFormatNotBeforeFrom => "must not be before From", "darf nicht vor Von liegen";
    ProblemFormatDatetime => "must be a date and time", "muss ein Datum mit Uhrzeit sein";
    ProblemFormatNumber => "must be a whole number", "muss eine ganze Zahl sein";
    ProblemUnknown => "is not a known value", "ist kein bekannter Wert";
    ProblemRepeated => "already appears on line {line}", "steht schon in Zeile {line}";
    ProblemFormatEventRole => "must be student or instructor", "muss student oder instructor sein";
    ProblemNoSuchAccounts => "names no account: {names}", "nennt kein Konto: {names}";
    ErrNoSuchAccounts => "No account has the username {names}. Nobody was added; correct the list and try again.", "Kein Konto hat den Benutzernamen {names}. Niemand wurde hinzugefügt; korrigieren Sie die Liste und versuchen Sie es erneut.";
    // --- E-mail (issue 8) ---
    Mail => "E-mail", "E-Mail";
    MailTemplates => "E-mail templates", "E-Mail-Vorlagen";
    NewMailTemplate => "New template", "Neue Vorlage";
    MailAction => "Sent for", "Gesendet bei";
    MailNoAction => "No action (unused)", "Keiner Aktion (unbenutzt)";
    Subject => "Subject", "Betreff";
    HtmlBody => "HTML body", "HTML-Text";
    TextBody => "Plain-text body", "Reiner Text";
    ReplyTo => "Reply-to", "Antwort an";
    Placeholders => "Placeholders: {user.name}, {user.username}, {user.email}, {site.url}, {event.name}, {event.start}, {event.end}, {event.url}, {link}, {expires}, {error}; blocks such as {% if event.end %}…{% endif %}. Values are escaped in HTML.", "Platzhalter: {user.name}, {user.username}, {user.email}, {site.url}, {event.name}, {event.start}, {event.end}, {event.url}, {link}, {expires}, {error}; Blöcke wie {% if event.end %}…{% endif %}. Werte werden im HTML maskiert.";
    Preview => "Preview with sample values", "Vorschau mit Beispielwerten";
    SendTest => "Send test to me", "Test an mich senden";
    NoMailTemplates => "No templates: no mail is sent.", "Keine Vorlagen: es werden keine Mails gesendet.";
    MailServer => "Mail server", "Mailserver";
    MailServerUnset => "Not configured (SMTP_HOST or MAIL_DROP_DIR): mails are logged and fail.", "Nicht konfiguriert (SMTP_HOST oder MAIL_DROP_DIR): Mails werden protokolliert und schlagen fehl.";
    SendTestMail => "Send test mail to me", "Testmail an mich senden";
    SentMails => "Sent e-mails", "Gesendete E-Mails";
    SentWithTemplate => "E-mails sent with it", "Damit gesendete E-Mails";
    NoSentMails => "No e-mails yet.", "Noch keine E-Mails.";
    Recipient => "Recipient", "Empfänger";
    ServerAnswer => "Server's answer", "Antwort des Servers";
    Resend => "Resend", "Erneut senden";
    MailQueued => "queued", "eingereiht";
    MailSent => "sent", "gesendet";
    MailFailed => "failed", "fehlgeschlagen";
    ConfirmDelete => "Really delete?", "Wirklich löschen?";
    ForgotPassword => "Forgot password?", "Passwort vergessen?";
    SendResetLink => "Send reset link", "Link senden";
    SetOwnPassword => "Set your password", "Passwort festlegen";
    FlashTestMailSent => "Test mail handed over; its answer is in the list below.", "Testmail übergeben; die Antwort steht in der Liste unten.";
    TestMailAnswer => "Test mail handed over; the answer:", "Testmail übergeben; die Antwort:";
    FlashResetSent => "If the account exists and has an e-mail address, a link is on its way.", "Wenn das Konto existiert und eine E-Mail-Adresse hat, ist ein Link unterwegs.";
    ErrMailNotFailed => "Only failed e-mails can be sent again.", "Nur fehlgeschlagene E-Mails können erneut gesendet werden.";
    ErrTokenUnknown => "This link is invalid, used or expired. Ask for a new one with \"Forgot password?\".", "Dieser Link ist ungültig, benutzt oder abgelaufen. Fordern Sie mit \"Passwort vergessen?\" einen neuen an.";
    // --- Dashboard, notifications, quick links (issue 5, item 11) ---
    DashNextEvent => "Your next event", "Ihre nächste Veranstaltung";
    DashNoNextEvent => "No event ahead of you.", "Keine anstehende Veranstaltung.";
    DashQuickLinks => "Quick links", "Schnellzugriffe";
    DashNoQuickLinks => "No quick links yet.", "Noch keine Schnellzugriffe.";
    DashManage => "Notifications and quick links", "Hinweise und Schnellzugriffe";
    DashClusterCapacity => "Cluster capacity", "Cluster-Kapazität";
    DashRunningVms => "VMs running", "laufende VMs";
    DashEventsToday => "Events today", "Veranstaltungen heute";
    DashFailedJobs => "Failed jobs", "Fehlgeschlagene Aufgaben";
    DashMemoryFree => "Memory free", "Freier Arbeitsspeicher";
    DashCores => "cores", "Kerne";
    DashMyEvents => "Events I teach", "Meine Veranstaltungen als Lehrkraft";
    DashNoEvents => "You teach no upcoming event.", "Sie leiten keine anstehende Veranstaltung.";
    DashVmsRunning => "VMs running", "VMs laufen";
    DashVmsFailed => "failed", "fehlgeschlagen";
    DashNotifications => "System-wide notifications", "Systemweite Hinweise";
    DashNoNotifications => "No notifications.", "Keine Hinweise.";
    DashNewNotification => "New notification", "Neuer Hinweis";
    DashMessage => "Message", "Nachricht";
    DashSeverity => "Severity", "Wichtigkeit";
    DashSeverityInfo => "Information", "Information";
    DashSeverityWarning => "Warning", "Warnung";
    DashSeverityCritical => "Critical", "Kritisch";
    DashShownFrom => "Shown from (empty: now)", "Angezeigt ab (leer: sofort)";
    DashShownUntil => "Shown until (empty: until deleted)", "Angezeigt bis (leer: bis gelöscht)";
    DashNewQuickLink => "New quick link", "Neuer Schnellzugriff";
    DashLinkTitle => "Title", "Titel";
    DashPosition => "Position (ascending)", "Position (aufsteigend)";
    ZoneTitle => "Time zone", "Zeitzone";
    VmUptime => "Uptime", "Laufzeit";
    DriftFound => "The comparison with the cluster at {time} found differences; the records now match the cluster:", "Der Abgleich mit dem Cluster um {time} fand Abweichungen; die Einträge entsprechen jetzt dem Cluster:";
    DriftVmMissing => "{name} (VM {vmid}): recorded as {recorded}, no longer on the cluster (deleted outside OpenVLE)", "{name} (VM {vmid}): eingetragen als {recorded}, nicht mehr auf dem Cluster (außerhalb von OpenVLE gelöscht)";
    DriftVmMoved => "{name} (VM {vmid}): recorded on node {recorded}, on the cluster on node {cluster}", "{name} (VM {vmid}): eingetragen auf Knoten {recorded}, auf dem Cluster auf Knoten {cluster}";
    DriftVmStatus => "{name} (VM {vmid}): recorded as {recorded}, on the cluster {cluster}", "{name} (VM {vmid}): eingetragen als {recorded}, auf dem Cluster {cluster}";
    DriftVmAddress => "{name} (VM {vmid}): recorded at address {recorded}, its guest agent reports {cluster}", "{name} (VM {vmid}): eingetragen mit Adresse {recorded}, der Gast-Agent meldet {cluster}";
    DriftVmFound => "{name}: recorded without a VM, found on the cluster as VM {vmid} ({cluster} on node {node})", "{name}: ohne VM eingetragen, auf dem Cluster als VM {vmid} gefunden ({cluster} auf Knoten {node})";
    DriftUntracked => "{name} (VM {vmid} on node {node}) carries this event's tag but no record names it; it is removed when the event ends", "{name} (VM {vmid} auf Knoten {node}) trägt die Markierung dieser Veranstaltung, ist aber nicht eingetragen; sie wird beim Ende der Veranstaltung entfernt";
    DriftNothing => "(none)", "(keine)";
    EventOverlapWarning => "Students of this event also take part in other events at the same time (each would get VMs in both):", "Teilnehmende dieser Veranstaltung sind zur selben Zeit auch in anderen Veranstaltungen (sie bekämen in beiden VMs):";
    ZoneSiteDefault => "The site's zone ({zone})", "Zeitzone der Installation ({zone})";
    DashProblemHttpUrl => "must be a full address starting with http:// or https://", "muss eine vollständige Adresse sein, die mit http:// oder https:// beginnt";
    // --- Built-in console (issue 9) ---
    ConsoleConnect => "Connect", "Verbinden";
    ConsoleTitle => "Console", "Konsole";
    ConsoleNeedsJs => "The console needs JavaScript: turn it on in your browser to see and use the VM's screen here.", "Die Konsole braucht JavaScript: Schalten Sie es im Browser ein, um den Bildschirm der VM hier zu sehen und zu bedienen.";
    ConsoleBackToVm => "Back to the VM", "Zurück zur VM";
    ConsoleToolbar => "Console controls", "Konsolensteuerung";
    ConsoleCtrlAltDel => "Send Ctrl-Alt-Del", "Strg-Alt-Entf senden";
    ConsoleFullScreen => "Full screen", "Vollbild";
    ConsoleScaling => "Scaling", "Skalierung";
    ConsoleScaleFit => "Fit to the window", "An das Fenster anpassen";
    ConsoleScaleRemote => "The VM's size (scroll)", "Größe der VM (scrollen)";
    ConsoleReconnect => "Reconnect", "Neu verbinden";
    ConsolePaste => "Paste text into the VM", "Text in die VM einfügen";
    ConsolePasteText => "Text to send", "Zu sendender Text";
    ConsoleTypeText => "Type it into the VM", "In die VM tippen";
    ConsoleSendClipboard => "Put it on the VM's clipboard", "In die Zwischenablage der VM legen";
    ConsoleScreen => "Screen of the VM; click it to type into the VM.", "Bildschirm der VM; klicken Sie darauf, um in der VM zu tippen.";
    AccountReadOnly => "You can see this account but not change it: it holds a role you could not give.", "Sie können dieses Konto sehen, aber nicht ändern: Es hat eine Rolle, die Sie nicht vergeben könnten.";
    ConsoleConnecting => "Connecting…", "Verbinde …";
    ConsoleConnected => "Connected.", "Verbunden.";
    ConsoleReconnecting => "The connection dropped. Reconnecting in {s} s (attempt {n})…", "Die Verbindung ist abgebrochen. Neuer Versuch in {s} s ({n}. Versuch) …";
    ConsoleUnreachable => "The VM's screen could not be reached. Trying again in {s} s (attempt {n})…", "Der Bildschirm der VM ist nicht erreichbar. Neuer Versuch in {s} s ({n}. Versuch) …";
    ConsoleDisconnected => "Disconnected.", "Getrennt.";
    ConsoleVmNotRunning => "The VM is not running, so it has no console. Start it, then reconnect.", "Die VM läuft nicht und hat daher keine Konsole. Starten Sie sie und verbinden Sie dann neu.";
    ConsoleRefused => "You may not use this VM's console (or the VM no longer exists).", "Sie dürfen die Konsole dieser VM nicht benutzen (oder die VM gibt es nicht mehr).";
}

/// The label of a form field, for error messages ("E-mail is already in use").
pub fn field_label(field: &str, lang: Language) -> String {
    let msg = match field {
        "username" => Msg::Username,
        "password" | "new_password" => Msg::Password,
        "current_password" => Msg::CurrentPassword,
        "name" => Msg::Name,
        "email" => Msg::Email,
        "language" => Msg::Language,
        "roles" | "role" => Msg::Roles,
        "event_role" => Msg::EventRoleLabel,
        "key" => Msg::Key,
        "description" => Msg::Description,
        "permissions" => Msg::Permissions,
        "value" => Msg::Value,
        "content" => Msg::Content,
        "url" => Msg::Url,
        "token_id" => Msg::TokenId,
        "guacamole_url" => Msg::GuacUrl,
        "admin_username" => Msg::GuacAdminUsername,
        "admin_password" => Msg::GuacAdminPassword,
        "data_source" => Msg::GuacDataSource,
        "sso_method" => Msg::GuacSsoMethod,
        "json_secret_key" => Msg::GuacJsonSecret,
        "secret" => Msg::TokenSecret,
        "fingerprint" => Msg::Fingerprint,
        "pool" => Msg::Pool,
        "short_name" => Msg::ShortName,
        "environment_id" => Msg::Environment,
        "starts_at" => Msg::Starts,
        "ends_at" => Msg::Ends,
        "operating_system" => Msg::OperatingSystemLabel,
        "proxmox_vmid" | "vmid" => Msg::ProxmoxVmid,
        "node" => Msg::Node,
        "cores" => Msg::Cores,
        "memory_mib" => Msg::MemoryMib,
        "disk_gib" => Msg::DiskGib,
        "protocol" => Msg::Protocol,
        "port" => Msg::Port,
        "conn_username" => Msg::ConnectionUsername,
        "conn_password" => Msg::ConnectionPassword,
        "rdp_security" => Msg::RdpSecurityLabel,
        "console" => Msg::ConsoleKind,
        "templates" | "template_id" => Msg::Template,
        "count" => Msg::VmsPerParticipant,
        "usernames" => Msg::Usernames,
        "group_id" => Msg::Group,
        "csv" => Msg::RosterCsv,
        "subject" => Msg::Subject,
        "html" => Msg::HtmlBody,
        "text" => Msg::TextBody,
        "reply_to" => Msg::ReplyTo,
        "tag" | "tag_name" => Msg::TagsName,
        "tag_value" => Msg::TagsValue,
        "vendor_id" => Msg::CatalogueVendor,
        "operating_system_id" => Msg::OperatingSystem,
        "application_ids" => Msg::CatalogueApplications,
        "slug" => Msg::MailAction,
        "confirm" => Msg::Confirmation,
        "message" => Msg::DashMessage,
        "severity" => Msg::DashSeverity,
        "title" => Msg::DashLinkTitle,
        "position" => Msg::DashPosition,
        "time_zone" => Msg::ZoneTitle,
        "outcome" => Msg::Outcome,
        "from" => Msg::FromDay,
        "until" => Msg::UntilDay,
        other => return other.to_string(),
    };
    msg.text(lang).to_string()
}

fn problem_text(problem: &Problem, lang: Language) -> String {
    match problem {
        Problem::Required => Msg::ProblemRequired.text(lang).into(),
        Problem::TooShort { min } => Msg::ProblemTooShort.text(lang).replace("{n}", &min.to_string()),
        Problem::TooLong { max } => Msg::ProblemTooLong.text(lang).replace("{n}", &max.to_string()),
        Problem::Format { expected } => match expected.as_str() {
            "username" => Msg::ProblemFormatUsername.text(lang).into(),
            "email" => Msg::ProblemFormatEmail.text(lang).into(),
            "key" => Msg::ProblemFormatKey.text(lang).into(),
            "single_line" => Msg::ProblemFormatLine.text(lang).into(),
            "current_password" => Msg::ProblemFormatCurrentPassword.text(lang).into(),
            "short_name" => Msg::ProblemFormatShortName.text(lang).into(),
            "after_start" => Msg::ProblemFormatAfterStart.text(lang).into(),
            "future" => Msg::ProblemFormatFuture.text(lang).into(),
            "not_before_from" => Msg::ProblemFormatNotBeforeFrom.text(lang).into(),
            "event_role" => Msg::ProblemFormatEventRole.text(lang).into(),
            "datetime" => Msg::ProblemFormatDatetime.text(lang).into(),
            "number" | "integer" => Msg::ProblemFormatNumber.text(lang).into(),
            "tag" => Msg::CatalogueProblemTag.text(lang).into(),
            "tag_reserved" => Msg::CatalogueProblemTagReserved.text(lang).into(),
            "http_url" => Msg::DashProblemHttpUrl.text(lang).into(),
            other => Msg::ProblemFormatOther.text(lang).replace("{expected}", other),
        },
        Problem::WeakPassword { reason } => match reason.as_str() {
            "common" => Msg::ProblemWeakCommon.text(lang).into(),
            "contains_username" => Msg::ProblemWeakUsername.text(lang).into(),
            _ => Msg::ProblemWeakVariety.text(lang).into(),
        },
        Problem::Taken => Msg::ProblemTaken.text(lang).into(),
        Problem::OutOfRange { min, max } => {
            Msg::ProblemOutOfRange.text(lang).replace("{min}", &min.to_string()).replace("{max}", &max.to_string())
        }
        Problem::Unknown => Msg::ProblemUnknown.text(lang).into(),
        Problem::Repeated { line } => Msg::ProblemRepeated.text(lang).replace("{line}", &line.to_string()),
        Problem::NoSuchAccounts { usernames } => {
            Msg::ProblemNoSuchAccounts.text(lang).replace("{names}", &usernames.join(", "))
        }
    }
}

/// A complete, specific sentence for an error.
pub fn error_text(error: &AppError, lang: Language) -> String {
    match error {
        AppError::NotSignedIn => Msg::ErrNotSignedIn.text(lang).into(),
        AppError::Forbidden => Msg::ErrForbidden.text(lang).into(),
        AppError::NotFound => Msg::ErrNotFound.text(lang).into(),
        AppError::Invalid { field, problem: Problem::Unknown } if field == "token" => {
            Msg::ErrTokenUnknown.text(lang).into()
        }
        AppError::Invalid { field, problem: Problem::NoSuchAccounts { usernames } } if field == "usernames" => {
            Msg::ErrNoSuchAccounts.text(lang).replace("{names}", &usernames.join(", "))
        }
        AppError::Invalid { field, problem } => {
            format!("{} {}.", field_label(field, lang), problem_text(problem, lang))
        }
        AppError::InvalidCredentials => Msg::ErrInvalidCredentials.text(lang).into(),
        AppError::AccountDisabled { status } => match status {
            domain::UserStatus::Banned => Msg::ErrAccountBanned.text(lang).into(),
            domain::UserStatus::EmailPending => Msg::ErrAccountPending.text(lang).into(),
            _ => Msg::ErrAccountInactive.text(lang).into(),
        },
        AppError::RateLimited { retry_after_secs } => {
            Msg::ErrRateLimited.text(lang).replace("{minutes}", &retry_after_secs.div_ceil(60).max(1).to_string())
        }
        AppError::Conflict { reason } => match reason.as_str() {
            "last_admin" => Msg::ErrLastAdmin,
            "own_account" => Msg::ErrOwnAccount,
            "role_in_use" => Msg::ErrRoleInUse,
            "default_role" => Msg::ErrDefaultRole,
            "admin_role_essentials" => Msg::ErrAdminEssentials,
            "internal_setting" => Msg::ErrInternalSetting,
            "external_account" => Msg::ErrExternalAccount,
            "local_login_disabled" => Msg::ErrLocalLoginDisabled,
            "oidc_expired" => Msg::ErrOidcExpired,
            "oidc_state" => Msg::ErrOidcState,
            "oidc_rejected" => Msg::ErrOidcRejected,
            "oidc_unavailable" => Msg::ErrOidcUnavailable,
            "oidc_disabled" => Msg::ErrOidcDisabled,
            "ldap_not_configured" => Msg::ErrLdapNotConfigured,
            "oidc_not_configured" => Msg::ErrOidcNotConfigured,
            "account_belongs_elsewhere" => Msg::ErrAccountBelongsElsewhere,
            "policy_inactive" => Msg::ErrPolicyInactive,
            "passwords_differ" => Msg::PasswordsDiffer,
            "task_not_failed" => Msg::ErrTaskNotFailed,
            "task_not_queued" => Msg::ErrTaskNotQueued,
            "template_in_use" => Msg::ErrTemplateInUse,
            "guacamole_not_configured" => Msg::ErrGuacNotConfigured,
            "secret_key_missing" => Msg::GuacSecretKeyHint,
            "guacamole_not_ready" => Msg::ErrGuacNotReady,
            "connection_template_duplicate" => Msg::ErrConnTemplateDuplicate,
            "environment_in_use" => Msg::ErrEnvironmentInUse,
            "event_not_planned" => Msg::ErrEventNotPlanned,
            "event_has_vms" => Msg::ErrEventHasVms,
            "event_not_failed" => Msg::ErrEventNotFailed,
            "cluster_not_asked" => Msg::ErrClusterNotAsked,
            "event_over" => Msg::ErrEventOver,
            "environment_empty" => Msg::ErrEnvironmentEmpty,
            "roster_has_errors" => Msg::ErrRosterHasErrors,
            "invitations_not_queued" => Msg::ErrInvitationsNotQueued,
            "event_status_move" => Msg::ErrEventStatusMove,
            "event_not_deployed" => Msg::ErrEventNotDeployed,
            "mail_not_failed" => Msg::ErrMailNotFailed,
            // Deployment (issue 5).
            "event_deploying" => Msg::ErrEventDeploying,
            "event_not_deployable" => Msg::ErrEventNotDeployable,
            "event_status_changed" => Msg::ErrEventStatusChanged,
            "event_ending" => Msg::ErrEventEnding,
            "event_not_running" => Msg::ErrEventNotRunning,
            "vm_not_on_cluster" => Msg::ErrVmNotOnCluster,
            "vm_not_running" => Msg::ConsoleVmNotRunning,
            "vm_not_planned" => Msg::ErrVmNotOnCluster,
            "vm_locked" => Msg::ErrVmLocked,
            "node_offline" => Msg::ErrNodeOffline,
            "vm_action_failed" => Msg::ErrVmActionFailed,
            "vm_names" => Msg::ErrVmNames,
            "provisioning_not_configured" => Msg::ErrProvisioningNotConfigured,
            "vm_catalogue_inherited" => Msg::CatalogueVmInherited,
            _ => Msg::ErrConflict,
        }
        .text(lang)
        .into(),
        AppError::InUse { used_by } => {
            let users: Vec<String> = used_by
                .iter()
                .map(|usage| {
                    let kind = match usage.kind.as_str() {
                        "operating_systems" => Msg::CatalogueUsedByOperatingSystems.text(lang),
                        "applications" => Msg::CatalogueUsedByApplications.text(lang),
                        "templates" => Msg::CatalogueUsedByTemplates.text(lang),
                        "environments" => Msg::CatalogueUsedByEnvironments.text(lang),
                        other => other,
                    };
                    format!("{kind} ({})", usage.names.join(", "))
                })
                .collect();
            Msg::CatalogueInUse.text(lang).replace("{users}", &users.join("; "))
        }
        AppError::PolicyRequired => Msg::ErrPolicyRequired.text(lang).into(),
        AppError::BadRequest { .. } => Msg::ErrBadRequest.text(lang).into(),
        AppError::Unreachable => Msg::ErrUnreachable.text(lang).into(),
        AppError::DirectoryUnreachable => Msg::ErrDirectoryUnreachable.text(lang).into(),
        AppError::Cluster { problem } => cluster_problem_text(problem, lang),
        AppError::CheckFailed { system, message } => {
            Msg::ErrCheckFailed.text(lang).replace("{system}", system).replace("{message}", message)
        }
        AppError::Internal { reference } => Msg::ErrInternal.text(lang).replace("{reference}", reference),
    }
}

/// Why a single sign-on failed, from the reason key the callback puts into the login
/// page's URL (`/login?oidc_error=<key>`).
pub fn oidc_error_text(key: &str, lang: Language) -> String {
    match key {
        "account_disabled" => Msg::ErrAccountInactive.text(lang).into(),
        "rate_limited" => Msg::ErrRateLimited.text(lang).replace("{minutes}", "10"),
        other => error_text(&AppError::conflict(other), lang),
    }
}

/// Why the cluster could not be used, as a complete sentence.
pub fn cluster_problem_text(problem: &domain::cluster::ClusterProblem, lang: Language) -> String {
    use domain::cluster::ClusterProblem as P;
    match problem {
        P::NotConfigured => Msg::ErrClusterNotConfigured.text(lang).into(),
        P::BadToken { message } => Msg::ErrClusterBadToken.text(lang).replace("{message}", message),
        P::Forbidden { message } => Msg::ErrClusterForbidden.text(lang).replace("{message}", message),
        P::FingerprintMismatch { seen: Some(seen) } => Msg::ErrClusterFingerprint.text(lang).replace("{seen}", seen),
        P::FingerprintMismatch { seen: None } => Msg::ErrClusterFingerprintUnknown.text(lang).into(),
        P::CertificateUntrusted { detail } => Msg::ErrClusterUntrusted.text(lang).replace("{detail}", detail),
        P::Unreachable { detail } => Msg::ErrClusterUnreachable.text(lang).replace("{detail}", detail),
        P::Timeout { secs } => Msg::ErrClusterTimeout.text(lang).replace("{secs}", &secs.to_string()),
        P::Api { status, message } => {
            Msg::ErrClusterApi.text(lang).replace("{status}", &status.to_string()).replace("{message}", message)
        }
        P::SecretKeyMissing => Msg::ErrSecretKeyMissing.text(lang).into(),
        P::SecretUnreadable => Msg::ErrSecretUnreadable.text(lang).into(),
        P::Setup { message } => Msg::ErrClusterSetup.text(lang).replace("{message}", message),
    }
}

pub fn status_text(status: domain::UserStatus, lang: Language) -> &'static str {
    match status {
        domain::UserStatus::Active => Msg::StatusActive,
        domain::UserStatus::Inactive => Msg::StatusInactive,
        domain::UserStatus::EmailPending => Msg::StatusEmailPending,
        domain::UserStatus::Banned => Msg::StatusBanned,
    }
    .text(lang)
}

pub fn level_text(level: domain::AccessLevel, lang: Language) -> &'static str {
    match level {
        domain::AccessLevel::Read => Msg::LevelRead,
        domain::AccessLevel::ReadVmControl => Msg::LevelReadVmControl,
        domain::AccessLevel::ReadEdit => Msg::LevelReadEdit,
        domain::AccessLevel::Full => Msg::LevelFull,
        domain::AccessLevel::Create => Msg::LevelCreate,
    }
    .text(lang)
}

pub fn flash_text(key: &str, lang: Language) -> Option<&'static str> {
    let msg = match key {
        "saved" => Msg::FlashSaved,
        "created" => Msg::FlashCreated,
        "deleted" => Msg::FlashDeleted,
        "password_changed" => Msg::FlashPasswordChanged,
        "signed_out" => Msg::FlashSignedOut,
        "accepted" => Msg::FlashAccepted,
        "queued" => Msg::FlashQueued,
        "imported" => Msg::FlashImported,
        "test_mail_sent" => Msg::FlashTestMailSent,
        "reset_sent" => Msg::FlashResetSent,
        "done" => Msg::FlashDone,
        _ => return None,
    };
    Some(msg.text(lang))
}

pub fn mail_status_text(status: domain::mail::MailStatus, lang: Language) -> &'static str {
    use domain::mail::MailStatus;
    match status {
        MailStatus::Queued => Msg::MailQueued,
        MailStatus::Sent => Msg::MailSent,
        MailStatus::Failed => Msg::MailFailed,
    }
    .text(lang)
}

pub fn task_status_text(status: domain::task::TaskStatus, lang: Language) -> &'static str {
    use domain::task::TaskStatus;
    match status {
        TaskStatus::Queued => Msg::TaskQueued,
        TaskStatus::Running => Msg::TaskRunning,
        TaskStatus::Failed => Msg::TaskFailed,
        TaskStatus::Success => Msg::TaskSuccess,
        TaskStatus::Cancelled => Msg::TaskCancelled,
    }
    .text(lang)
}

/// What a task does, in `lang` (German is written here; English is the
/// domain's, which is also the name stored with the task).
pub fn task_title_text(title: &domain::task::TaskTitle, lang: Language) -> String {
    use domain::task::TaskTitle as T;
    // Power actions are worded by the buttons' labels in both languages.
    if lang == Language::En && !matches!(title, T::VmAction { .. }) {
        return title.english();
    }
    match title {
        T::PurgeSessions => "Abgelaufene Sitzungen entfernen".into(),
        T::SyncTemplates => "VM-Vorlagen abgleichen".into(),
        T::PurgeActivities => "Aktivitäten nach ihrer Aufbewahrungsfrist entfernen".into(),
        T::WorkerCheck { sleep_ms, node: None } => format!("Worker prüfen ({sleep_ms} ms)"),
        T::WorkerCheck { sleep_ms, node: Some(node) } => format!("Worker auf {node} prüfen ({sleep_ms} ms)"),
        T::DeployVms { owner, count } => format!("{count} VMs von {owner} bereitstellen"),
        T::DecommissionVms { owner } => format!("Die VMs von {owner} entfernen"),
        T::ReconcileVms { owner } => format!("Die VMs von {owner} mit dem Cluster vergleichen"),
        T::VmAction { vmid, action } => vm_action_title(*vmid, action, lang),
        T::SendMail { mail_id } => format!("E-Mail #{mail_id} senden"),
        T::DeployEvent { event_id, partial: false } => format!("Veranstaltung {event_id} bereitstellen"),
        T::DeployEvent { event_id, partial: true } => {
            format!("Veranstaltung {event_id} bereitstellen, soweit Platz ist")
        }
        T::DecommissionEvent { event_id } => format!("Veranstaltung {event_id} beenden: ihre VMs entfernen"),
        T::ScheduleEvents => "Veranstaltungen pünktlich starten und beenden".into(),
        T::SyncConnections { event_id } => format!("Guacamole-Verbindungen der Veranstaltung {event_id}"),
        T::Stored(name) => name.clone(),
    }
}

/// A power action's label, by its key (`services::provisioning::VmAction::key`).
pub fn vm_action_msg(key: &str) -> Option<Msg> {
    Some(match key {
        "start" => Msg::VmStart,
        "shutdown" => Msg::VmShutdown,
        "stop" => Msg::VmStop,
        "reboot" => Msg::VmReboot,
        "pause" => Msg::VmPause,
        "resume" => Msg::VmResume,
        "reset_to_template" => Msg::VmResetToTemplate,
        _ => return None,
    })
}

/// "VM 104: Shut down"; a key this version does not know stays as it is.
fn vm_action_title(vmid: u32, key: &str, lang: Language) -> String {
    let action = vm_action_msg(key).map_or(key, |msg| msg.text(lang));
    format!("VM {vmid}: {action}")
}

/// What sends a mail template, as words (its slug stays the key).
pub fn mail_action_text(action: domain::mail::MailAction, lang: Language) -> &'static str {
    use domain::mail::MailAction as A;
    match action {
        A::EventDeployed => Msg::MailOnEventDeployed,
        A::EventDeploymentFailed => Msg::MailOnEventDeploymentFailed,
        A::EventDecommissionStarted => Msg::MailOnDecommissionStarted,
        A::EventDecommissionFailed => Msg::MailOnDecommissionFailed,
        A::AccountInvitation => Msg::MailOnAccountInvitation,
        A::PasswordReset => Msg::MailOnPasswordReset,
        A::EventStarting => Msg::MailOnEventStarting,
        A::VmsReady => Msg::MailOnVmsReady,
        A::EventEndingSoon => Msg::MailOnEventEndingSoon,
    }
    .text(lang)
}

/// Classroom (issue 5): statuses and roles as words.
pub fn event_status_text(status: domain::classroom::EventStatus, lang: Language) -> &'static str {
    use domain::classroom::EventStatus as S;
    match status {
        S::Planned => Msg::StatusPlanned,
        S::Deploying => Msg::StatusDeploying,
        S::Running => Msg::StatusRunning,
        S::Ending => Msg::StatusEnding,
        S::Decommissioning => Msg::StatusDecommissioning,
        S::Finished => Msg::StatusFinished,
        S::Failed => Msg::StatusFailed,
    }
    .text(lang)
}

pub fn vm_state_text(state: domain::classroom::VmState, lang: Language) -> &'static str {
    use domain::classroom::VmState as S;
    match state {
        S::Pending => Msg::VmPending,
        S::Cloning => Msg::VmCloning,
        S::Starting => Msg::VmStarting,
        S::Running => Msg::VmRunning,
        S::Paused => Msg::VmPaused,
        S::Stopped => Msg::VmStopped,
        S::Deleting => Msg::VmDeleting,
        S::Failed => Msg::VmFailed,
    }
    .text(lang)
}

/// What a setting of the catalogue (`domain::settings::CATALOGUE`) is for.
pub fn setting_text(key: &str, lang: Language) -> Option<&'static str> {
    use domain::settings as s;
    let msg = match key {
        s::BRANDING_TITLE => Msg::SettingBrandingTitle,
        "contact.mail" => Msg::SettingContactMail,
        s::LOCAL_LOGIN_FOR_NON_ADMINS => Msg::SettingLocalLogin,
        s::SESSION_LIFETIME_MINUTES => Msg::SettingSessionLifetime,
        "events.transition_period_hours" => Msg::SettingTransitionPeriod,
        s::ACTIVITY_RETENTION_DAYS => Msg::SettingActivityRetention,
        s::SITE_TIME_ZONE => Msg::SettingSiteTimeZone,
        "system.schema_seeded" => Msg::SettingSchemaSeeded,
        _ => return None,
    };
    Some(msg.text(lang))
}

pub fn event_role_text(role: domain::classroom::EventRole, lang: Language) -> &'static str {
    match role {
        domain::classroom::EventRole::Instructor => Msg::RoleInstructor,
        domain::classroom::EventRole::Student => Msg::RoleStudent,
    }
    .text(lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every setting of the catalogue has its text in both languages, the
    /// English one as the catalogue describes it.
    #[test]
    fn settings_are_described_in_both_languages() {
        for def in domain::settings::CATALOGUE {
            assert_eq!(setting_text(def.key, Language::En), Some(def.description), "{}", def.key);
            let german = setting_text(def.key, Language::De).unwrap_or_default();
            assert!(!german.is_empty() && german != def.description, "{}", def.key);
        }
    }

    /// A task is named in the reader's language; one this version cannot read
    /// keeps the name stored with it.
    #[test]
    fn task_titles_in_both_languages() {
        use domain::task::TaskTitle;
        let deploy = TaskTitle::DeployEvent { event_id: 7, partial: true };
        assert_eq!(task_title_text(&deploy, Language::En), "Deploy what fits of event 7");
        assert_eq!(task_title_text(&deploy, Language::De), "Veranstaltung 7 bereitstellen, soweit Platz ist");
        let check = TaskTitle::WorkerCheck { sleep_ms: 50, node: Some("pve1".into()) };
        assert_eq!(task_title_text(&check, Language::De), "Worker auf pve1 prüfen (50 ms)");
        let power = TaskTitle::VmAction { vmid: 104, action: "shutdown".into() };
        assert_eq!(task_title_text(&power, Language::En), "VM 104: Shut down");
        assert_eq!(task_title_text(&power, Language::De), "VM 104: Herunterfahren");
        let newer = TaskTitle::VmAction { vmid: 104, action: "hibernate".into() };
        assert_eq!(task_title_text(&newer, Language::De), "VM 104: hibernate");
        let old = TaskTitle::Stored("Resize disks".into());
        assert_eq!(task_title_text(&old, Language::De), "Resize disks");
    }

    /// Every power action the services know has a label (buttons, task titles).
    #[cfg(feature = "ssr")]
    #[test]
    fn every_power_action_has_a_label() {
        for action in services::provisioning::VmAction::ALL {
            assert!(vm_action_msg(action.key()).is_some(), "{}", action.key());
        }
    }

    #[test]
    fn roster_problems_say_what_to_fix() {
        let repeated = AppError::invalid("username", Problem::Repeated { line: 2 });
        assert_eq!(error_text(&repeated, Language::En), "Username already appears on line 2.");
        let role = domain::classroom::event_role_unknown();
        assert_eq!(error_text(&role, Language::En), "Role in the event must be student or instructor.");
    }

    #[test]
    fn errors_are_specific_in_both_languages() {
        let e = AppError::invalid("email", Problem::Taken);
        assert_eq!(error_text(&e, Language::En), "E-mail is already in use.");
        assert_eq!(error_text(&e, Language::De), "E-Mail wird bereits verwendet.");
        let r = AppError::RateLimited { retry_after_secs: 61 };
        assert_eq!(error_text(&r, Language::En), "Too many failed attempts. Try again in 2 minute(s).");
        let i = AppError::Internal { reference: "ab12".into() };
        assert!(error_text(&i, Language::De).contains("ab12"));
        let names = AppError::invalid(
            "usernames",
            Problem::NoSuchAccounts { usernames: vec!["nosuch".into(), "ghost".into()] },
        );
        assert_eq!(
            error_text(&names, Language::En),
            "No account has the username nosuch, ghost. Nobody was added; correct the list and try again."
        );
        let past = AppError::invalid("ends_at", Problem::Format { expected: "future".into() });
        assert_eq!(error_text(&past, Language::En), "Ends must be in the future.");
    }
}
