//! What happened to an invitation's email, as SES reports it through EventBridge: the tags
//! each email carries to find its invitation, how a report is read from an SES event's
//! `detail`, and the order in which reports replace one another.

use serde::Deserialize;
use serde_json::Value;

use super::{InvitationId, OrgId, Timestamp};

/// The SES message tags of every invitation email. Their values are ids and digits only, which
/// SES allows in a tag (ASCII letters, digits, `_` and `-`).
pub const TAG_ORG: &str = "org_id";
pub const TAG_INVITATION: &str = "invitation_id";
/// The invitation's `sent_at` in Unix milliseconds: which sending of it the email was, so a
/// report on the email a resend replaced is not taken for the new one's.
pub const TAG_SENT: &str = "sent_at";

/// Whether SES takes `value` as a message tag's name or value.
pub fn is_tag_text(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 256
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The tags of the email of `invitation` sent at `sent_at`.
pub fn message_tags(
    org: &OrgId,
    invitation: &InvitationId,
    sent_at: Timestamp,
) -> [(&'static str, String); 3] {
    [
        (TAG_ORG, org.as_str().to_owned()),
        (TAG_INVITATION, invitation.as_str().to_owned()),
        (TAG_SENT, sent_at.unix_millis().to_string()),
    ]
}

/// An address on the SES account's suppression list: SES would drop any email to it (and
/// count a bounce against the account), so no invitation is made for it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{address} is on the SES suppression list ({reason})")]
pub struct Suppressed {
    pub address: String,
    /// SES's `BOUNCE` or `COMPLAINT`.
    pub reason: String,
}

impl Suppressed {
    pub fn detail(&self) -> String {
        let why = match self.reason.as_str() {
            "COMPLAINT" => "its owner marked an earlier email as spam",
            _ => "an earlier email to it bounced",
        };
        format!(
            "Email to {} is suppressed because {why}; no invitation was made. Invite another \
             address, or ask the operator to remove it from the SES suppression list once it \
             works again.",
            self.address
        )
    }
}

/// What SES last said about an email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// SES accepted it and will try to deliver it.
    Sent,
    /// The receiving server has not taken it yet; SES keeps trying.
    Delayed,
    Delivered,
    /// `bounce_type` is SES's `Permanent`, `Transient` or `Undetermined`; `sub_type` says why
    /// (`General`, `NoEmail`, `OnAccountSuppressionList`, ...).
    Bounced {
        bounce_type: String,
        sub_type: String,
    },
    /// The recipient marked it as spam.
    Complained,
    /// SES refused to send it (it found a virus).
    Rejected,
}

impl DeliveryStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delayed => "delayed",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Bounced { .. } => "bounced",
            DeliveryStatus::Complained => "complained",
            DeliveryStatus::Rejected => "rejected",
        }
    }

    /// Where the status stands in an email's life. SES publishes each event once it happens,
    /// but EventBridge may deliver them in any order, so a report only replaces one of a lower
    /// rank: a late `Send` never hides a `Delivery`, nor a late `Delivery` a `Complaint` (a
    /// complaint comes after delivery). A bounce or a rejection ends the email as a complaint
    /// does; a bounce may follow a delivery (a server that took the email may bounce it later).
    pub fn rank(&self) -> u8 {
        match self {
            DeliveryStatus::Sent => 1,
            DeliveryStatus::Delayed => 2,
            DeliveryStatus::Delivered => 3,
            DeliveryStatus::Rejected | DeliveryStatus::Bounced { .. } => 4,
            DeliveryStatus::Complained => 5,
        }
    }

    /// Whether a report of `self` replaces the status `current` (none yet: always).
    pub fn replaces(&self, current: Option<&DeliveryStatus>) -> bool {
        current.is_none_or(|current| self.rank() > current.rank())
    }

    /// Reads a stored status back: its name and, for a bounce, its type and subtype.
    pub fn from_stored(
        name: &str,
        bounce_type: Option<&str>,
        sub_type: Option<&str>,
    ) -> Option<Self> {
        Some(match name {
            "sent" => DeliveryStatus::Sent,
            "delayed" => DeliveryStatus::Delayed,
            "delivered" => DeliveryStatus::Delivered,
            "bounced" => DeliveryStatus::Bounced {
                bounce_type: bounce_type.unwrap_or("Undetermined").to_owned(),
                sub_type: sub_type.unwrap_or("Undetermined").to_owned(),
            },
            "complained" => DeliveryStatus::Complained,
            "rejected" => DeliveryStatus::Rejected,
            _ => return None,
        })
    }
}

/// One SES event about one invitation's email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryReport {
    pub org_id: OrgId,
    pub invitation_id: InvitationId,
    /// Which sending of the invitation the email was (`TAG_SENT`).
    pub sent_at: Timestamp,
    pub status: DeliveryStatus,
    /// When SES says it happened (the event's own timestamp, else the email's).
    pub at: Timestamp,
    /// The SES message id of the email.
    pub message_id: String,
}

impl DeliveryReport {
    /// Whether the report is news for an invitation last sent at `sent_at` whose email's
    /// status is `current`: about that very sending, and later than what is known.
    pub fn applies_to(&self, sent_at: Timestamp, current: Option<&DeliveryStatus>) -> bool {
        self.sent_at == sent_at && self.status.replaces(current)
    }
}

/// Why an SES event is not a report on an invitation's email.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotAReport {
    /// Opens, clicks and the like: not recorded.
    #[error("SES event type {0:?} is not recorded")]
    Ignored(String),
    /// Not one of our emails, or a malformed event: nothing to record.
    #[error("the SES event has no well-formed {0}")]
    Malformed(&'static str),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    event_type: Option<String>,
    mail: Option<Mail>,
    bounce: Option<Value>,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Mail {
    timestamp: Option<String>,
    #[serde(default)]
    message_id: String,
    #[serde(default)]
    tags: std::collections::HashMap<String, Vec<String>>,
}

/// The object of the event type in an SES event (`bounce`, `delivery`, `deliveryDelay`...).
fn event_object(event_type: &str) -> &'static str {
    match event_type {
        "Bounce" => "bounce",
        "Complaint" => "complaint",
        "Delivery" => "delivery",
        "DeliveryDelay" => "deliveryDelay",
        "Reject" => "reject",
        _ => "send",
    }
}

/// Reads the `detail` of an SES event (as SES publishes it to EventBridge) as a report on an
/// invitation's email, from its `eventType` and the tags in `mail.tags`.
pub fn read_report(detail: &Value) -> Result<DeliveryReport, NotAReport> {
    let detail: Detail =
        serde_json::from_value(detail.clone()).map_err(|_| NotAReport::Malformed("detail"))?;
    let event_type = detail
        .event_type
        .ok_or(NotAReport::Malformed("eventType"))?;
    let status = match event_type.as_str() {
        "Send" => DeliveryStatus::Sent,
        "DeliveryDelay" => DeliveryStatus::Delayed,
        "Delivery" => DeliveryStatus::Delivered,
        "Complaint" => DeliveryStatus::Complained,
        "Reject" => DeliveryStatus::Rejected,
        "Bounce" => {
            let bounce = detail.bounce.ok_or(NotAReport::Malformed("bounce"))?;
            let text = |name: &'static str| {
                bounce[name]
                    .as_str()
                    .filter(|t| is_tag_text(t))
                    .map(str::to_owned)
                    .ok_or(NotAReport::Malformed("bounce type"))
            };
            DeliveryStatus::Bounced {
                bounce_type: text("bounceType")?,
                sub_type: text("bounceSubType")?,
            }
        }
        other => return Err(NotAReport::Ignored(other.to_owned())),
    };
    let mail = detail.mail.ok_or(NotAReport::Malformed("mail"))?;
    let tag = |name: &'static str| {
        mail.tags
            .get(name)
            .and_then(|values| values.first())
            .ok_or(NotAReport::Malformed(name))
    };
    let org_id = OrgId::parse(tag(TAG_ORG)?).ok_or(NotAReport::Malformed(TAG_ORG))?;
    let invitation_id =
        InvitationId::parse(tag(TAG_INVITATION)?).ok_or(NotAReport::Malformed(TAG_INVITATION))?;
    let sent_at = tag(TAG_SENT)?
        .parse()
        .ok()
        .and_then(Timestamp::from_unix_millis)
        .ok_or(NotAReport::Malformed(TAG_SENT))?;
    let own = detail.rest.get(event_object(&event_type));
    let at = own
        .and_then(|o| o["timestamp"].as_str())
        .or(mail.timestamp.as_deref())
        .and_then(Timestamp::parse)
        .ok_or(NotAReport::Malformed("timestamp"))?;
    Ok(DeliveryReport {
        org_id,
        invitation_id,
        sent_at,
        status,
        at,
        message_id: mail.message_id,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn bounced() -> DeliveryStatus {
        DeliveryStatus::Bounced {
            bounce_type: "Permanent".into(),
            sub_type: "General".into(),
        }
    }

    #[test]
    fn a_report_replaces_only_an_earlier_status() {
        use DeliveryStatus::*;
        let order = [Sent, Delayed, Delivered, bounced(), Complained];
        for (i, later) in order.iter().enumerate() {
            assert!(later.replaces(None));
            for earlier in &order[..i] {
                assert!(later.replaces(Some(earlier)), "{later:?} over {earlier:?}");
                assert!(!earlier.replaces(Some(later)), "{earlier:?} over {later:?}");
            }
            assert!(!later.replaces(Some(later)), "a repeat of {later:?}");
        }
        // A rejection ends the email as a bounce does; neither replaces the other.
        assert!(Rejected.replaces(Some(&Sent)) && !Rejected.replaces(Some(&bounced())));
        assert!(!bounced().replaces(Some(&Rejected)));
    }

    #[test]
    fn a_report_applies_only_to_its_own_sending_and_over_an_earlier_status() {
        let sent_at = Timestamp::parse("2026-11-29T10:00:00.000Z").unwrap();
        let report = DeliveryReport {
            org_id: OrgId::generate(),
            invitation_id: InvitationId::generate(),
            sent_at,
            status: DeliveryStatus::Delivered,
            at: sent_at,
            message_id: "m".into(),
        };
        assert!(report.applies_to(sent_at, None));
        assert!(report.applies_to(sent_at, Some(&DeliveryStatus::Sent)));
        assert!(!report.applies_to(sent_at, Some(&DeliveryStatus::Complained)));
        // Resent since: the report is about the email the resend replaced.
        assert!(!report.applies_to(sent_at.plus_seconds(60), None));
    }

    #[test]
    fn a_stored_status_reads_back() {
        for status in [
            DeliveryStatus::Sent,
            DeliveryStatus::Delayed,
            DeliveryStatus::Delivered,
            bounced(),
            DeliveryStatus::Complained,
            DeliveryStatus::Rejected,
        ] {
            let (kind, sub) = match &status {
                DeliveryStatus::Bounced {
                    bounce_type,
                    sub_type,
                } => (Some(bounce_type.as_str()), Some(sub_type.as_str())),
                _ => (None, None),
            };
            assert_eq!(
                DeliveryStatus::from_stored(status.as_str(), kind, sub),
                Some(status)
            );
        }
        assert_eq!(DeliveryStatus::from_stored("opened", None, None), None);
    }

    #[test]
    fn tags_hold_only_what_ses_allows() {
        let org = OrgId::generate();
        let invitation = InvitationId::generate();
        let at = Timestamp::parse("2026-11-29T10:00:00.123Z").unwrap();
        for (name, value) in message_tags(&org, &invitation, at) {
            assert!(is_tag_text(name) && is_tag_text(&value), "{name}={value}");
        }
        for bad in ["", "a b", "a.b", "a@b", "ünï", &"x".repeat(257)] {
            assert!(!is_tag_text(bad), "{bad:?}");
        }
    }

    /// An SES event's detail as SES publishes it to EventBridge.
    fn detail(event_type: &str, own: (&str, Value), tags: Value) -> Value {
        let mut detail = json!({
            "eventType": event_type,
            "mail": {
                "timestamp": "2026-11-29T10:00:00.000Z",
                "source": "no-reply@orgs.example",
                "sendingAccountId": "123456789012",
                "messageId": "0100018c-example",
                "destination": ["bob@example.com"],
                "tags": tags,
            },
        });
        detail[own.0] = own.1;
        detail
    }

    fn our_tags(org: &OrgId, invitation: &InvitationId) -> Value {
        json!({
            "ses:configuration-set": ["orgs-delivery"],
            "ses:source-ip": ["192.0.2.1"],
            "org_id": [org.as_str()],
            "invitation_id": [invitation.as_str()],
            "sent_at": ["1795953600000"],
        })
    }

    #[test]
    fn reads_each_recorded_event_type_from_its_tags() {
        let org = OrgId::generate();
        let invitation = InvitationId::generate();
        let tags = our_tags(&org, &invitation);
        let bounce = json!({
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{ "emailAddress": "bob@example.com" }],
            "timestamp": "2026-11-29T10:00:02.000Z",
        });
        let cases = [
            ("Send", ("send", json!({})), DeliveryStatus::Sent),
            (
                "Delivery",
                (
                    "delivery",
                    json!({ "timestamp": "2026-11-29T10:00:02.000Z" }),
                ),
                DeliveryStatus::Delivered,
            ),
            (
                "DeliveryDelay",
                ("deliveryDelay", json!({ "delayType": "MailboxFull" })),
                DeliveryStatus::Delayed,
            ),
            ("Bounce", ("bounce", bounce), bounced()),
            (
                "Complaint",
                ("complaint", json!({})),
                DeliveryStatus::Complained,
            ),
            (
                "Reject",
                ("reject", json!({ "reason": "Bad content" })),
                DeliveryStatus::Rejected,
            ),
        ];
        for (event_type, own, status) in cases {
            let report = read_report(&detail(event_type, own, tags.clone())).unwrap();
            assert_eq!(report.status, status, "{event_type}");
            assert_eq!((&report.org_id, &report.invitation_id), (&org, &invitation));
            assert_eq!(report.sent_at.unix_millis(), 1_795_953_600_000);
            assert_eq!(report.message_id, "0100018c-example");
        }
        let delivered = read_report(&detail(
            "Delivery",
            (
                "delivery",
                json!({ "timestamp": "2026-11-29T10:00:02.000Z" }),
            ),
            tags,
        ))
        .unwrap();
        assert_eq!(delivered.at.to_rfc3339(), "2026-11-29T10:00:02.000Z");
    }

    #[test]
    fn other_events_and_other_emails_are_not_reports() {
        let org = OrgId::generate();
        let invitation = InvitationId::generate();
        let open = detail("Open", ("open", json!({})), our_tags(&org, &invitation));
        assert_eq!(read_report(&open), Err(NotAReport::Ignored("Open".into())));
        let untagged = detail("Send", ("send", json!({})), json!({}));
        assert_eq!(read_report(&untagged), Err(NotAReport::Malformed(TAG_ORG)));
        let mut forged = our_tags(&org, &invitation);
        forged["org_id"] = json!(["ORG#x"]);
        let forged = detail("Send", ("send", json!({})), forged);
        assert_eq!(read_report(&forged), Err(NotAReport::Malformed(TAG_ORG)));
        let no_type = detail(
            "Bounce",
            ("bounce", json!({ "bounceSubType": "General" })),
            our_tags(&org, &invitation),
        );
        assert_eq!(
            read_report(&no_type),
            Err(NotAReport::Malformed("bounce type"))
        );
        assert_eq!(
            read_report(&json!("text")),
            Err(NotAReport::Malformed("detail"))
        );
    }
}
