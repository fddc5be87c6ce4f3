//! The templates an installation starts with, one per action and language.
//! Each is seeded once ever, also into an installation upgraded to the
//! release that adds it; admins edit (or delete) them from there (see
//! `store::seed`).

use domain::Language;
use domain::mail::MailAction;

pub struct DefaultTemplate {
    pub action: MailAction,
    pub language: Language,
    pub name: &'static str,
    pub subject: &'static str,
    /// The body as plain text; the HTML body is made from it (paragraphs, link).
    pub text: &'static str,
}

use Language::{De, En};
use MailAction::*;

pub const DEFAULTS: &[DefaultTemplate] = &[
    DefaultTemplate {
        action: EventDeployed,
        language: En,
        name: "Event deployed",
        subject: "{event.name} is ready",
        text: "Hello {user.name},\n\nthe event {event.name} has been deployed: all its machines are ready.\n\n{event.url}",
    },
    DefaultTemplate {
        action: EventDeployed,
        language: De,
        name: "Veranstaltung bereitgestellt",
        subject: "{event.name} ist bereit",
        text: "Hallo {user.name},\n\ndie Veranstaltung {event.name} wurde bereitgestellt: alle ihre Maschinen sind bereit.\n\n{event.url}",
    },
    DefaultTemplate {
        action: EventDeploymentFailed,
        language: En,
        name: "Event deployment failed",
        subject: "{event.name} could not be deployed",
        text: "Hello {user.name},\n\nthe event {event.name} could not be deployed:\n{error}\n\n{event.url}",
    },
    DefaultTemplate {
        action: EventDeploymentFailed,
        language: De,
        name: "Bereitstellung fehlgeschlagen",
        subject: "{event.name} konnte nicht bereitgestellt werden",
        text: "Hallo {user.name},\n\ndie Veranstaltung {event.name} konnte nicht bereitgestellt werden:\n{error}\n\n{event.url}",
    },
    DefaultTemplate {
        action: EventDecommissionStarted,
        language: En,
        name: "Event being archived",
        subject: "{event.name} is being archived",
        text: "Hello {user.name},\n\nthe event {event.name} has ended; its machines are being removed.\n\n{event.url}",
    },
    DefaultTemplate {
        action: EventDecommissionStarted,
        language: De,
        name: "Veranstaltung wird archiviert",
        subject: "{event.name} wird archiviert",
        text: "Hallo {user.name},\n\ndie Veranstaltung {event.name} ist beendet; ihre Maschinen werden entfernt.\n\n{event.url}",
    },
    DefaultTemplate {
        action: EventDecommissionFailed,
        language: En,
        name: "Event archiving failed",
        subject: "{event.name} could not be archived",
        text: "Hello {user.name},\n\nthe event {event.name} could not be archived:\n{error}\n\n{event.url}",
    },
    DefaultTemplate {
        action: EventDecommissionFailed,
        language: De,
        name: "Archivierung fehlgeschlagen",
        subject: "{event.name} konnte nicht archiviert werden",
        text: "Hallo {user.name},\n\ndie Veranstaltung {event.name} konnte nicht archiviert werden:\n{error}\n\n{event.url}",
    },
    DefaultTemplate {
        action: AccountInvitation,
        language: En,
        name: "Invitation",
        subject: "Your OpenVLE account",
        text: "Hello {user.name},\n\nan account with the username {user.username} has been created for you. \
               Choose your password here (the link works once, until {expires}):\n\n{link}",
    },
    DefaultTemplate {
        action: AccountInvitation,
        language: De,
        name: "Einladung",
        subject: "Ihr OpenVLE-Konto",
        text: "Hallo {user.name},\n\nfür Sie wurde ein Konto mit dem Benutzernamen {user.username} angelegt. \
               Wählen Sie hier Ihr Passwort (der Link gilt einmal, bis {expires}):\n\n{link}",
    },
    DefaultTemplate {
        action: PasswordReset,
        language: En,
        name: "Password reset",
        subject: "Reset your OpenVLE password",
        text: "Hello {user.name},\n\nsomeone asked to reset the password of {user.username}. \
               If it was you, choose a new one here (the link works once, until {expires}):\n\n{link}\n\n\
               If it was not you, ignore this mail.",
    },
    DefaultTemplate {
        action: PasswordReset,
        language: De,
        name: "Passwort zurücksetzen",
        subject: "OpenVLE-Passwort zurücksetzen",
        text: "Hallo {user.name},\n\njemand möchte das Passwort von {user.username} zurücksetzen. \
               Wenn Sie das waren, wählen Sie hier ein neues (der Link gilt einmal, bis {expires}):\n\n{link}\n\n\
               Wenn nicht, ignorieren Sie diese Mail.",
    },
    DefaultTemplate {
        action: EventStarting,
        language: En,
        name: "Event starting",
        subject: "{event.name} starts at {event.start}",
        text: "Hello {user.name},\n\nthe event {event.name} starts at {event.start}.\n\n{event.url}",
    },
    DefaultTemplate {
        action: EventStarting,
        language: De,
        name: "Veranstaltung beginnt",
        subject: "{event.name} beginnt um {event.start}",
        text: "Hallo {user.name},\n\ndie Veranstaltung {event.name} beginnt um {event.start}.\n\n{event.url}",
    },
    DefaultTemplate {
        action: VmsReady,
        language: En,
        name: "Machines ready",
        subject: "Your machines for {event.name} are ready",
        text: "Hello {user.name},\n\nyour virtual machines for {event.name} are ready.\n\n{event.url}",
    },
    DefaultTemplate {
        action: VmsReady,
        language: De,
        name: "Maschinen bereit",
        subject: "Ihre Maschinen für {event.name} sind bereit",
        text: "Hallo {user.name},\n\nIhre virtuellen Maschinen für {event.name} sind bereit.\n\n{event.url}",
    },
    DefaultTemplate {
        action: EventEndingSoon,
        language: En,
        name: "Event ending soon",
        subject: "{event.name} ends at {event.end}",
        text: "Hello {user.name},\n\nthe event {event.name} ends at {event.end}; save your work before then.\n\n{event.url}",
    },
    DefaultTemplate {
        action: EventEndingSoon,
        language: De,
        name: "Veranstaltung endet bald",
        subject: "{event.name} endet um {event.end}",
        text: "Hallo {user.name},\n\ndie Veranstaltung {event.name} endet um {event.end}; sichern Sie vorher Ihre Arbeit.\n\n{event.url}",
    },
];

impl DefaultTemplate {
    /// The HTML body: each paragraph of the text in `<p>`, placeholders
    /// that hold links (`{link}`, `{event.url}`) as anchors.
    pub fn html(&self) -> String {
        self.text
            .split("\n\n")
            .map(|paragraph| {
                let body = match paragraph.trim() {
                    p @ ("{link}" | "{event.url}") => format!("<a href=\"{p}\">{p}</a>"),
                    p => p.replace('\n', "<br>"),
                };
                format!("<p>{body}</p>")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_default_in_both_languages_that_renders() {
        for action in MailAction::ALL {
            for language in Language::ALL {
                let found = DEFAULTS.iter().find(|d| d.action == action && d.language == language);
                let d = found.unwrap_or_else(|| panic!("no default for {action:?} in {language:?}"));
                crate::mail::render::check(d.subject, &d.html(), d.text).unwrap();
            }
        }
    }
}
