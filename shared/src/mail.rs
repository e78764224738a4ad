//! Invitation emails through SES v2: an HTML and a plain-text part, made from the templates in
//! `shared/templates`. The HTML template escapes every value by default, so names and notes
//! that people typed can never become markup.

use askama::Template;
use aws_sdk_sesv2::operation::get_suppressed_destination::GetSuppressedDestinationError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageTag};

use crate::domain::Timestamp;
use crate::domain::delivery::{Suppressed, is_tag_text};

/// Everything an invitation email shows.
#[derive(Clone, Debug)]
pub struct InvitationEmail<'a> {
    pub to: &'a str,
    pub invitee_name: Option<&'a str>,
    pub inviter: &'a str,
    pub org_name: &'a str,
    pub org_handle: &'a str,
    pub role: &'a str,
    pub note: Option<&'a str>,
    /// The accept link, with the token in it.
    pub link: &'a str,
    pub expires_at: Timestamp,
    /// For an invitee the service does not know yet: the welcome, with what the product is and
    /// where to create an account. `None`: the notification a known person gets.
    pub welcome: Option<Welcome<'a>>,
    /// SES message tags that lead a delivery report back to the invitation
    /// (`domain::delivery::message_tags`).
    pub tags: &'a [(&'static str, String)],
    /// Where replies go: the inviter's verified address, unless configured off.
    pub reply_to: Option<&'a str>,
}

/// What the welcome adds to an invitation.
#[derive(Clone, Copy, Debug)]
pub struct Welcome<'a> {
    /// The product's name (`ORGS_PRODUCT_NAME`).
    pub product: &'a str,
    /// Where to create an account, carrying the accept link to return to
    /// (`domain::invitation_link::sign_up_link`).
    pub sign_up_link: &'a str,
}

/// The fields every template shows; the welcome's add `to`, `product` and `sign_up_link`.
macro_rules! part {
    ($name:ident, $path:literal $(, $extra:ident)*) => {
        #[derive(Template)]
        #[template(path = $path)]
        struct $name<'a> {
            invitee_name: Option<&'a str>,
            inviter: &'a str,
            org_name: &'a str,
            org_handle: &'a str,
            role: &'a str,
            note: Option<&'a str>,
            link: &'a str,
            expires_at: &'a str,
            $($extra: &'a str,)*
        }
    };
}

part!(HtmlPart, "invitation.html");
part!(TextPart, "invitation.txt");
part!(WelcomeHtml, "welcome.html", to, product, sign_up_link);
part!(WelcomeText, "welcome.txt", to, product, sign_up_link);

/// Fills one template's struct from the email, with the welcome's fields when it has them.
macro_rules! fill {
    ($name:ident, $email:expr, $expires_at:expr $(, $extra:ident: $value:expr)*) => {
        $name {
            invitee_name: $email.invitee_name,
            inviter: $email.inviter,
            org_name: $email.org_name,
            org_handle: $email.org_handle,
            role: $email.role,
            note: $email.note,
            link: $email.link,
            expires_at: $expires_at,
            $($extra: $value,)*
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("could not render the invitation email")]
    Render(#[from] askama::Error),
    #[error("could not build the SES request")]
    Build(#[from] aws_sdk_sesv2::error::BuildError),
    #[error("SES refused or did not answer")]
    Send(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("SES did not say whether the address is suppressed")]
    SuppressionCheck(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The subject, HTML and text of an invitation: the welcome for a person the service does not
/// know yet, else the notification. The subject says which.
pub fn render(email: &InvitationEmail<'_>) -> Result<(String, String, String), MailError> {
    let expires_at = format!(
        "{} UTC",
        &email.expires_at.to_rfc3339()[..16].replace('T', " ")
    );
    let expires_at = expires_at.as_str();
    let invited = format!("{} invited you to join {}", email.inviter, email.org_name);
    Ok(match email.welcome {
        None => (
            invited,
            fill!(HtmlPart, email, expires_at).render()?,
            fill!(TextPart, email, expires_at).render()?,
        ),
        Some(Welcome {
            product,
            sign_up_link,
        }) => (
            format!("Welcome to {product}: {invited}"),
            fill!(WelcomeHtml, email, expires_at, to: email.to, product: product, sign_up_link: sign_up_link).render()?,
            fill!(WelcomeText, email, expires_at, to: email.to, product: product, sign_up_link: sign_up_link).render()?,
        ),
    })
}

#[derive(Clone, Debug)]
pub struct Mailer {
    client: aws_sdk_sesv2::Client,
    from: String,
    /// The SES configuration set every email is sent with: it publishes delivery events and
    /// suppresses bounced and complained addresses (`ORGS_SES_CONFIGURATION_SET`).
    configuration_set: Option<String>,
    /// Local development only: print each email's recipient and link, so a person trying the
    /// service can follow it. Never set in a deployed function (the link holds a secret).
    echo_links: bool,
}

fn utf8(data: String) -> Result<Content, MailError> {
    Ok(Content::builder().data(data).charset("UTF-8").build()?)
}

impl Mailer {
    /// Every send is bounded by the budget of the request it serves
    /// (`crate::budget::WithinBudget`).
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>) -> Self {
        let config = client
            .config()
            .to_builder()
            .interceptor(crate::budget::WithinBudget);
        Self {
            client: aws_sdk_sesv2::Client::from_conf(config.build()),
            from: from.into(),
            configuration_set: None,
            echo_links: false,
        }
    }

    /// Sends every email with this configuration set.
    pub fn with_configuration_set(self, name: Option<String>) -> Self {
        Self {
            configuration_set: name,
            ..self
        }
    }

    /// Whether `address` is on the account's suppression list (SES v2
    /// `GetSuppressedDestination`; "not found" means it is not).
    pub async fn check_suppressed(&self, address: &str) -> Result<Option<Suppressed>, MailError> {
        match self
            .client
            .get_suppressed_destination()
            .email_address(address)
            .send()
            .await
        {
            Ok(out) => Ok(Some(Suppressed {
                address: address.to_owned(),
                reason: out
                    .suppressed_destination()
                    .map(|d| d.reason().as_str().to_owned())
                    .unwrap_or_default(),
            })),
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(GetSuppressedDestinationError::NotFoundException(_))
                ) =>
            {
                Ok(None)
            }
            Err(err) => Err(MailError::SuppressionCheck(Box::new(err))),
        }
    }

    pub fn echoing_links(self) -> Self {
        Self {
            echo_links: true,
            ..self
        }
    }

    pub async fn send_invitation(&self, email: &InvitationEmail<'_>) -> Result<(), MailError> {
        let (subject, html, text) = render(email)?;
        let message = Message::builder()
            .subject(utf8(subject)?)
            .body(Body::builder().html(utf8(html)?).text(utf8(text)?).build())
            .build();
        let mut tags = Vec::new();
        for (name, value) in email.tags {
            // A tag SES would refuse would refuse the whole email: leave it out instead.
            if is_tag_text(name) && is_tag_text(value) {
                tags.push(MessageTag::builder().name(*name).value(value).build()?);
            }
        }
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(email.to).build())
            .set_reply_to_addresses(email.reply_to.map(|address| vec![address.to_owned()]))
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .set_email_tags(Some(tags))
            .send()
            .await
            .map_err(|e| MailError::Send(Box::new(e)))?;
        if self.echo_links {
            let kind = if email.welcome.is_some() {
                "welcome"
            } else {
                "invitation"
            };
            eprintln!("mail to {} ({kind}): {}", email.to, email.link);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email<'a>(note: Option<&'a str>, name: Option<&'a str>) -> InvitationEmail<'a> {
        InvitationEmail {
            to: "bob@example.com",
            invitee_name: name,
            inviter: "Alice <admin>",
            org_name: "Acme & Co",
            org_handle: "acme",
            role: "member",
            note,
            link: "https://app.example/invite?token=abc",
            expires_at: Timestamp::parse("2026-11-29T10:00:00.000Z").unwrap(),
            welcome: None,
            tags: &[],
            reply_to: None,
        }
    }

    #[test]
    fn the_html_part_escapes_everything_people_typed() {
        let note = r#"<script>alert(1)</script> <a href="https://evil.example">click</a>"#;
        let (_, html, text) = render(&email(Some(note), Some("<b>Bob</b>"))).unwrap();
        assert!(
            !html.contains("<script>") && !html.contains("<b>Bob"),
            "{html}"
        );
        assert!(
            !html.contains(r#"<a href="https://evil.example">"#),
            "{html}"
        );
        // Still shown, as text (askama writes entities such as `&#60;`).
        assert!(
            html.contains("alert(1)") && html.contains("Acme &#38; Co"),
            "{html}"
        );
        // The text part is plain text: shown as typed, never interpreted.
        assert!(text.contains(note));
    }

    #[test]
    fn both_parts_carry_the_link_expiry_and_role() {
        let (subject, html, text) = render(&email(None, None)).unwrap();
        assert_eq!(subject, "Alice <admin> invited you to join Acme & Co");
        for part in [&html, &text] {
            assert!(part.contains("https://app.example/invite?token=abc"));
            assert!(part.contains("2026-11-29 10:00 UTC"));
            assert!(part.contains("as member"));
        }
        assert!(!text.contains("Their note"));
    }

    fn welcome<'a>(note: Option<&'a str>, name: Option<&'a str>) -> InvitationEmail<'a> {
        InvitationEmail {
            welcome: Some(Welcome {
                product: "Orgs & Co <b>",
                sign_up_link: "https://app.example/signup#invitation=https%3A%2F%2Fapp.example%2Finvite%3Ftoken%3Dabc",
            }),
            ..email(note, name)
        }
    }

    #[test]
    fn the_welcome_says_what_the_product_is_and_where_to_sign_up() {
        let (subject, html, text) = render(&welcome(Some("See you"), Some("Bob"))).unwrap();
        assert_eq!(
            subject,
            "Welcome to Orgs & Co <b>: Alice <admin> invited you to join Acme & Co"
        );
        for part in [&html, &text] {
            assert!(part.contains("bob@example.com"), "{part}");
            assert!(
                part.contains("https://app.example/invite?token=abc"),
                "{part}"
            );
            assert!(
                part.contains("signup#invitation=https%3A%2F%2Fapp.example"),
                "{part}"
            );
            assert!(part.contains("2026-11-29 10:00 UTC") && part.contains("as member"));
            assert!(part.contains("See you"));
        }
        assert!(
            text.contains("You do not have an account on Orgs & Co <b> yet"),
            "{text}"
        );
        assert!(
            html.contains("Orgs &#38; Co &#60;b&#62;") && !html.contains("Co <b>"),
            "{html}"
        );
    }

    #[test]
    fn the_welcomes_html_escapes_everything_people_typed() {
        let note = r#"<script>alert(1)</script> <a href="https://evil.example">click</a>"#;
        let (_, html, text) = render(&welcome(Some(note), Some("<b>Bob</b>"))).unwrap();
        assert!(
            !html.contains("<script>") && !html.contains("<b>Bob"),
            "{html}"
        );
        assert!(
            !html.contains(r#"<a href="https://evil.example">"#),
            "{html}"
        );
        assert!(html.contains("alert(1)"), "{html}");
        assert!(text.contains(note));
    }
}
