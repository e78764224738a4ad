//! The DynamoDB key layout, written down in `docs/data-model.md`: every key string is spelled
//! here and nowhere else. Each entity's file turns these into the keys of its items, so the rest
//! of the store reaches a key through its entity (`Team::key`, `Invitation::pending_key`, ...).

use crate::domain::{
    EmailDomain, Handle, InvitationId, OrgId, RoleKey, Subject, TeamId, Timestamp, UserId,
};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI2: &str = "gsi2";
pub const GSI1PK: &str = "gsi1pk";
pub const GSI1SK: &str = "gsi1sk";
pub const GSI2PK: &str = "gsi2pk";
pub const GSI2SK: &str = "gsi2sk";
/// DynamoDB's TTL attribute: epoch seconds after which the table may shed the item.
pub const EXPIRE_AT: &str = "expire_at";

/// The kinds of partition, by what each one's key starts with. IAM policies limit a function
/// to some of them (`dynamodb:LeadingKeys`); the function catalog names them through this, so
/// that each prefix is spelled here once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partition {
    User,
    Handle,
    Org,
    Audit,
    Event,
    InvitationToken,
    DomainClaim,
    /// The users who hold one verified address (whether an invitee is known).
    KnownAddress,
    /// `gsi1`: pending invitations by invitee address.
    Invitee,
    /// `gsi2`: pending invitations by deadline.
    Expiry,
    /// One person's `Idempotency-Key` records.
    Idempotency,
    /// The one item that lists the organizations' identity providers for the app client.
    SsoClient,
}

impl Partition {
    pub const fn prefix(self) -> &'static str {
        match self {
            Partition::User => "USER#",
            Partition::Handle => "HANDLE#",
            Partition::Org => "ORG#",
            Partition::Audit => "AUDIT#",
            Partition::Event => "EVENT#",
            Partition::InvitationToken => INVITATION_TOKEN_PK_PREFIX,
            Partition::DomainClaim => DOMAIN_CLAIM_PK_PREFIX,
            Partition::KnownAddress => KNOWN_ADDRESS_PK_PREFIX,
            Partition::Invitee => "INVITEE#",
            Partition::Expiry => "EXPIRY#",
            Partition::Idempotency => "IDEM#",
            Partition::SsoClient => "SSOCLIENT#",
        }
    }
}

pub fn user_pk(user: &UserId) -> String {
    format!("{}{user}", Partition::User.prefix())
}
pub const PROFILE_SK: &str = "PROFILE";

pub fn handle_pk(handle: &Handle) -> String {
    format!("{}{handle}", Partition::Handle.prefix())
}
pub const HANDLE_SK: &str = "HANDLE";

pub const ORG_PREFIX: &str = Partition::Org.prefix();
pub fn org_pk(org: &OrgId) -> String {
    format!("{ORG_PREFIX}{org}")
}
pub const ORG_SK: &str = "ORG";

/// The organization's count shards (`tallies.rs`): `TALLY#0` .. `TALLY#{n-1}`.
pub fn tally_sk(shard: u8) -> String {
    format!("TALLY#{shard}")
}

pub const MEMBER_PREFIX: &str = "MEMBER#";
pub fn member_sk(user: &UserId) -> String {
    format!("{MEMBER_PREFIX}{user}")
}

pub const TEAM_PREFIX: &str = "TEAM#";
pub fn team_sk(team: &TeamId) -> String {
    format!("{TEAM_PREFIX}{team}")
}
pub fn team_name_sk(name: &str) -> String {
    format!("TEAMNAME#{}", name.to_lowercase())
}
/// The sort keys of every team's members start with this, then `{team}#`.
pub const TEAM_MEMBER_PREFIX: &str = "TEAMMEMBER#";
/// The sort keys of one team's members start with this.
pub fn team_members_prefix(team: &TeamId) -> String {
    format!("{TEAM_MEMBER_PREFIX}{team}#")
}
pub fn team_member_sk(team: &TeamId, user: &UserId) -> String {
    format!("{}{user}", team_members_prefix(team))
}

/// Active memberships by user (index `gsi1`): what `GET /orgs` reads.
pub fn membership_gsi1(user: &UserId, org: &OrgId) -> (String, String) {
    (membership_gsi1pk(user), org_pk(org))
}
/// The `gsi1` partition of one user's active memberships.
pub fn membership_gsi1pk(user: &UserId) -> String {
    user_pk(user)
}

/// Organizations whose deletion has begun (index `gsi2`), so unfinished deletions can be found.
pub const DELETING_GSI2PK: &str = "DELETING";
pub fn deleting_gsi2(org: &OrgId, since: Timestamp) -> (String, String) {
    (DELETING_GSI2PK.to_owned(), format!("{since}#{org}"))
}

fn subject_key(subject: &Subject) -> String {
    match subject {
        Subject::Org(org) => org_pk(org),
        Subject::User(user) => user_pk(user),
    }
}

/// Audit entries of one organization (or user), newest last by sort key.
pub fn audit_pk(subject: &Subject) -> String {
    format!("{}{}", Partition::Audit.prefix(), subject_key(subject))
}

/// Event records waiting to be published, in commit order per subject.
pub fn event_pk(subject: &Subject) -> String {
    format!("{}{}", Partition::Event.prefix(), subject_key(subject))
}

/// Sort key of an audit entry or event record: time first, so a range reads in order.
pub fn timeline_sk(at: Timestamp, id: &str) -> String {
    format!("{at}#{id}")
}

/// Finds an invitation from the hash of its token, with a strongly consistent read.
pub fn invitation_token_pk(token_hash: &str) -> String {
    format!("{INVITATION_TOKEN_PK_PREFIX}{token_hash}")
}
/// What every invitation token's partition key starts with.
pub const INVITATION_TOKEN_PK_PREFIX: &str = "INVTOKEN#";
pub const INVITATION_TOKEN_SK: &str = "INVTOKEN";

pub const INVITATION_PREFIX: &str = "INV#";
pub fn invitation_sk(invitation: &InvitationId) -> String {
    format!("{INVITATION_PREFIX}{invitation}")
}

/// At most one pending invitation per (organization, email).
pub fn pending_sk(email: &str) -> String {
    format!("PENDING#{email}")
}

/// A member's verified email, so an invitation can refuse "already a member" atomically.
pub fn member_email_sk(email: &str) -> String {
    format!("MEMBEREMAIL#{email}")
}

/// The email domains of an organization, by name.
/// An organization's single sign-on connection, in its partition.
pub const SSO_SK: &str = "SSO";

/// The app client's list of the organizations' identity providers (`store/sso.rs`).
pub fn sso_client_pk() -> String {
    format!("{}providers", Partition::SsoClient.prefix())
}
pub const SSO_CLIENT_SK: &str = "SSOCLIENT";

pub const ROLE_PREFIX: &str = "ROLE#";
pub fn role_sk(role: &RoleKey) -> String {
    format!("{ROLE_PREFIX}{role}")
}

pub const DOMAIN_PREFIX: &str = "DOMAIN#";
pub fn domain_sk(domain: &EmailDomain) -> String {
    format!("{DOMAIN_PREFIX}{domain}")
}

/// People's requests to join an organization, by requester.
pub const JOIN_REQUEST_PREFIX: &str = "JOINREQ#";
pub fn join_request_sk(user: &UserId) -> String {
    format!("{JOIN_REQUEST_PREFIX}{user}")
}

/// The organizations where one person has a join request pending, in their own partition.
pub const JOIN_REQUESTS_COUNTER_SK: &str = "COUNTER#JOINREQUESTS";

/// The marker that gives a verified domain to one organization at a time.
pub fn domain_claim_pk(domain: &EmailDomain) -> String {
    format!("{DOMAIN_CLAIM_PK_PREFIX}{domain}")
}
pub const DOMAIN_CLAIM_PK_PREFIX: &str = "DOMAINCLAIM#";
pub const DOMAIN_CLAIM_SK: &str = "DOMAINCLAIM";
/// Verified domains by when their record was last checked (index `gsi2`): what the
/// schedule's re-verification reads, oldest first, up to `gsi2_bound` of its cutoff.
pub const DOMAIN_CHECK_GSI2PK: &str = "DOMAINCHECK";
pub fn domain_check_gsi2(domain: &EmailDomain, checked_at: Timestamp) -> (String, String) {
    (
        DOMAIN_CHECK_GSI2PK.to_owned(),
        format!("{checked_at}#{domain}"),
    )
}

/// Invitation emails sent by an organization on the UTC day (`YYYY-MM-DD`) of `at`.
pub fn mail_counter_sk(at: Timestamp) -> String {
    format!("COUNTER#MAIL#{}", &at.to_rfc3339()[..10])
}

/// Invitation emails one person caused on the UTC day of `at`, in their own partition
/// (`USER#{user}`): the same sort key as an organization's day.
pub fn person_mail_counter_sk(at: Timestamp) -> String {
    mail_counter_sk(at)
}

/// Invitation emails an organization sent in its first 24 hours.
pub const FIRST_DAY_MAIL_COUNTER_SK: &str = "COUNTER#FIRSTDAY";

/// The users whose verified address this is (`known_addresses.rs`).
pub fn known_address_pk(email: &str) -> String {
    format!("{KNOWN_ADDRESS_PK_PREFIX}{email}")
}
pub const KNOWN_ADDRESS_PK_PREFIX: &str = "ADDRESS#";
pub const KNOWN_ADDRESS_SK: &str = "ADDRESS";

/// The marker of the organization made for a person at sign-up, in their own partition: one
/// per person, however often the sign-up is reported.
pub const FIRST_ORG_SK: &str = "FIRSTORG";

/// The `Idempotency-Key` records of the person who sent them: a key is theirs alone.
pub fn idempotency_pk(user: &UserId) -> String {
    format!("{}{user}", Partition::Idempotency.prefix())
}
pub fn idempotency_sk(key: &str) -> String {
    format!("KEY#{key}")
}

/// Organizations one person owns, in their own partition.
pub const OWNED_ORGS_COUNTER_SK: &str = "COUNTER#ORGS";

/// Pending invitations by invitee email (index `gsi1`): what `GET /me/invitations` reads.
pub fn invitee_gsi1(email: &str, org: &OrgId, invitation: &InvitationId) -> (String, String) {
    (invitee_gsi1pk(email), format!("INV#{org}#{invitation}"))
}
/// The `gsi1` partition of the pending invitations to one address.
pub fn invitee_gsi1pk(email: &str) -> String {
    format!("{}{email}", Partition::Invitee.prefix())
}

/// Pending invitations by expiry (index `gsi2`), spread over a few partitions so no single
/// one runs hot; the expiry function reads each shard's due range.
pub const EXPIRY_SHARDS: u32 = 4;

/// The `gsi2pk` of one expiry shard (`0..EXPIRY_SHARDS`).
pub fn expiry_shard_pk(shard: u32) -> String {
    format!("{}{shard}", Partition::Expiry.prefix())
}

/// An exclusive upper bound on `gsi2` sort keys that start with a time and then `#` (an
/// invitation's deadline, a deletion's start): `$` sorts right after `#`, so every time up to
/// and including `at` sorts below it and every later one above it.
pub fn gsi2_bound(at: Timestamp) -> String {
    format!("{at}$")
}
pub fn expiry_gsi2(
    org: &OrgId,
    invitation: &InvitationId,
    expires_at: Timestamp,
) -> (String, String) {
    let last = invitation
        .as_str()
        .chars()
        .last()
        .and_then(|c| c.to_digit(16))
        .unwrap_or(0);
    (
        expiry_shard_pk(last % EXPIRY_SHARDS),
        format!("{expires_at}#{org}#{invitation}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_splits_deadlines_at_now_inclusive() {
        let now = Timestamp::parse("2026-11-22T14:00:00.000Z").unwrap();
        let (org, inv) = (OrgId::generate(), InvitationId::generate());
        let bound = gsi2_bound(now);
        let sk = |at: Timestamp| expiry_gsi2(&org, &inv, at).1;
        assert!(sk(now.plus_seconds(-1)) < bound);
        assert!(sk(now) < bound, "due at its deadline exactly");
        assert!(sk(Timestamp::parse("2026-11-22T14:00:00.001Z").unwrap()) > bound);
        assert!(sk(now.plus_seconds(3600)) > bound);
    }

    #[test]
    fn every_shard_is_used() {
        let org = OrgId::generate();
        let now = Timestamp::now();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            seen.insert(expiry_gsi2(&org, &InvitationId::generate(), now).0);
        }
        let all: std::collections::BTreeSet<_> = (0..EXPIRY_SHARDS).map(expiry_shard_pk).collect();
        assert_eq!(seen, all);
    }
}
