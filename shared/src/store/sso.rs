//! Single sign-on: an organization's connection (`ORG#{org}` / `SSO`), what every sign-in and
//! request needs of it on the organization item (`sso_provider`, `sso_required`, and
//! `sso_domains`, its verified domains, which verifying and removing a domain keep), and the
//! one item listing every organization's provider (`SSOCLIENT#providers`), whose `version`
//! lets the functions that keep the app client's list in step tell whether it moved.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::payloads::SsoFacts;
use crate::domain::sso::{AttributeMapping, Protocol, SamlMetadata, SsoConnection};
use crate::domain::{
    Change, ChangeKind, CustomRole, EmailDomain, Op, OrgId, Organization, ProviderName, RoleKey,
    RoleName, RoleScope, Subject, Team, TeamAssignment, TeamId, TeamRole,
};

use super::error::{Refusal, StoreError, StoreResult};
use super::history;
use super::item::{Item, ItemBuilder, Reader, n, s};
use super::keys;
use super::tx::{Condition, Expr, Tx};
use super::{Read, Store};

impl SsoConnection {
    pub(super) fn key(org: &OrgId) -> Item {
        ItemBuilder::key(keys::org_pk(org), keys::SSO_SK).build()
    }

    fn to_item(&self) -> Item {
        let mut item = ItemBuilder::key(keys::org_pk(&self.org_id), keys::SSO_SK)
            .s("entity", "sso")
            .s("org_id", self.org_id.as_str())
            .s("provider", self.provider.as_str())
            .s("protocol", self.protocol.kind())
            .s("email_attribute", &self.mapping.email)
            .s("name_attribute", &self.mapping.name)
            .s("default_role", self.default_role.as_str())
            .string_set(
                "default_teams",
                self.default_teams
                    .iter()
                    .map(|a| format!("{}={}", a.team_id, a.role.as_str())),
            )
            .bool("sso_required", self.sso_required)
            .string_set("domains", self.domains.iter().map(|d| d.to_string()))
            .n("version", self.version)
            .s("created_at", self.created_at.to_rfc3339())
            .s("updated_at", self.updated_at.to_rfc3339());
        item = match &self.protocol {
            Protocol::Saml(SamlMetadata::Url(url)) => item.s("metadata_url", url),
            Protocol::Saml(SamlMetadata::Document(xml)) => item.s("metadata_document", xml),
            Protocol::Oidc {
                issuer,
                client_id,
                scopes,
                ..
            } => item
                .s("issuer", issuer)
                .s("client_id", client_id)
                .s("scopes", scopes.join(" ")),
        };
        item.build()
    }

    pub(super) fn from_item(item: &Item) -> StoreResult<Self> {
        let r = Reader(item);
        let protocol = match r.s("protocol")?.as_str() {
            "saml" => Protocol::Saml(match r.opt_s("metadata_url")? {
                Some(url) => SamlMetadata::Url(url),
                None => SamlMetadata::Document(r.s("metadata_document")?),
            }),
            "oidc" => Protocol::Oidc {
                issuer: r.s("issuer")?,
                client_id: r.s("client_id")?,
                client_secret: None,
                scopes: r.s("scopes")?.split(' ').map(str::to_owned).collect(),
            },
            other => return Err(StoreError::Corrupt(format!("sso protocol {other:?}"))),
        };
        Ok(Self {
            org_id: r.parsed("org_id", OrgId::parse)?,
            provider: r.parsed("provider", ProviderName::parse)?,
            protocol,
            mapping: AttributeMapping {
                email: r.s("email_attribute")?,
                name: r.s("name_attribute")?,
            },
            default_role: r.parsed("default_role", |raw| RoleName::parse("", raw).ok())?,
            default_teams: r.string_set("default_teams", |stored| {
                let (team, role) = stored.split_once('=')?;
                Some(TeamAssignment {
                    team_id: TeamId::parse(team)?,
                    role: TeamRole::parse(role)?,
                })
            }),
            sso_required: r.bool("sso_required")?,
            domains: r.string_set("domains", |d| EmailDomain::parse("domain", d).ok()),
            version: r.n("version")?,
            created_at: r.time("created_at")?,
            updated_at: r.time("updated_at")?,
        })
    }

    /// Unchanged since `self` was read (absent, for a connection not made yet).
    fn unchanged(previous: Option<&SsoConnection>) -> Condition {
        match previous {
            None => Condition::absent(Refusal::Changed),
            Some(p) => Condition::new(
                Expr::new("version = :version").value(":version", n(p.version)),
                Refusal::Changed,
            ),
        }
    }
}

fn client_key() -> Item {
    ItemBuilder::key(keys::sso_client_pk(), keys::SSO_CLIENT_SK).build()
}

fn sso_change(kind: ChangeKind, connection: &SsoConnection) -> Change {
    Change {
        kind,
        subject: Subject::Org(connection.org_id.clone()),
        target_type: "sso",
        target_id: connection.provider.to_string(),
        data: SsoFacts::of(connection).into(),
    }
}

/// The providers the app client should list, and the version of that list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientProviders {
    pub providers: BTreeSet<ProviderName>,
    pub version: i64,
    /// The last version the app client was confirmed to list.
    pub in_step: i64,
}

impl ClientProviders {
    /// Whether a change was stored that the app client may not list yet.
    pub fn behind(&self) -> bool {
        self.in_step < self.version
    }
}

impl Store {
    /// Puts `connection`, replacing `previous` as read (none: it must not exist yet): the
    /// organization item says so to every sign-in, the client list gains its provider and moves
    /// on, with the audit entry and event. `Refusal::Changed` if another request changed it
    /// first; `Refusal::Gone` if the organization is being deleted.
    pub async fn put_sso(
        &self,
        connection: &SsoConnection,
        previous: Option<&SsoConnection>,
        op: &Op,
    ) -> StoreResult<()> {
        let mut tx = Tx::new(self);
        tx.put(
            connection.to_item(),
            Some(SsoConnection::unchanged(previous)),
        )?;
        // The domains as read with the connection: a domain verified or removed meanwhile
        // moves them in its own transaction, whichever commits first.
        let domains: Vec<String> = connection.domains.iter().map(|d| d.to_string()).collect();
        let mut set = "SET sso_provider = :provider, sso_required = :required".to_owned();
        if !domains.is_empty() {
            set.push_str(", sso_domains = :domains");
        }
        let mut on_org = Expr::new(set)
            .value(":provider", s(connection.provider.as_str()))
            .value(":required", AttributeValue::Bool(connection.sso_required));
        if !domains.is_empty() {
            on_org = on_org.value(":domains", AttributeValue::Ss(domains));
        }
        tx.update(
            Organization::key(&connection.org_id),
            on_org,
            Some(Organization::is_active()),
        )?;
        let listed = Expr::new("ADD providers :provider, version :one")
            .value(
                ":provider",
                AttributeValue::Ss(vec![connection.provider.to_string()]),
            )
            .value(":one", n(1));
        tx.update(client_key(), listed, None)?;
        history::record(
            &mut tx,
            &sso_change(ChangeKind::SsoConnectionSet, connection),
            op,
            self.retention,
        )?;
        tx.made(connection);
        tx.commit("set a single sign-on connection").await
    }

    /// Removes `connection` as read: from its organization item and from the client list, with
    /// the audit entry and event. Also while the organization is being deleted.
    pub async fn remove_sso(&self, connection: &SsoConnection, op: &Op) -> StoreResult<()> {
        let mut tx = Tx::new(self);
        tx.delete(
            SsoConnection::key(&connection.org_id),
            Some(SsoConnection::unchanged(Some(connection))),
        )?;
        tx.update(
            Organization::key(&connection.org_id),
            Expr::new("REMOVE sso_provider, sso_required"),
            Some(Condition::present(Refusal::Gone)),
        )?;
        self.unlist(&mut tx, &connection.provider)?;
        history::record(
            &mut tx,
            &sso_change(ChangeKind::SsoConnectionRemoved, connection),
            op,
            self.retention,
        )?;
        tx.commit("remove a single sign-on connection").await
    }

    fn unlist(&self, tx: &mut Tx<'_>, provider: &ProviderName) -> StoreResult<()> {
        let unlisted = Expr::new("DELETE providers :provider ADD version :one")
            .value(":provider", AttributeValue::Ss(vec![provider.to_string()]))
            .value(":one", n(1));
        tx.update(client_key(), unlisted, None)
    }

    /// The organization's connection, if it has one.
    pub async fn get_sso(&self, org: &OrgId) -> StoreResult<Option<SsoConnection>> {
        self.get_item(SsoConnection::key(org), "read a single sign-on connection")
            .await?
            .map(|item| SsoConnection::from_item(&item))
            .transpose()
    }

    /// The custom roles a connection names (its default role and team roles) that exist, and
    /// those of its default teams that are live, in one read.
    pub async fn roles_and_live_teams(
        &self,
        org: &OrgId,
        connection: &SsoConnection,
    ) -> StoreResult<(Vec<(RoleKey, RoleScope)>, Vec<TeamId>)> {
        let mut role_keys: Vec<&RoleKey> = Vec::new();
        if let RoleName::Custom(key) = &connection.default_role {
            role_keys.push(key);
        }
        for assignment in &connection.default_teams {
            if let Some(key) = assignment.role.custom_key()
                && !role_keys.contains(&key)
            {
                role_keys.push(key);
            }
        }
        let keys: Vec<Item> = role_keys
            .iter()
            .map(|key| CustomRole::key(org, key))
            .chain(
                connection
                    .default_teams
                    .iter()
                    .map(|a| Team::key(org, &a.team_id)),
            )
            .collect();
        if keys.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let items = self
            .batch_get(
                keys,
                Read::Consistent,
                "read a connection's roles and teams",
            )
            .await?;
        let mut roles = Vec::new();
        let mut teams = Vec::new();
        for item in &items {
            match Reader(item).opt_s("entity")?.as_deref() {
                Some("role") => {
                    let role = CustomRole::from_item(item)?;
                    roles.push((role.key, role.scope));
                }
                Some("team") => {
                    let team = Team::from_item(item)?;
                    if team.active {
                        teams.push(team.team_id);
                    }
                }
                _ => {}
            }
        }
        Ok((roles, teams))
    }

    /// The identity provider a person at `domain` signs in through: that of the organization
    /// holding the domain verified, if its connection covers it. Two reads.
    pub async fn sso_for_domain(&self, domain: &EmailDomain) -> StoreResult<Option<ProviderName>> {
        let Some(org) = self.domain_owner(domain).await? else {
            return Ok(None);
        };
        let Some(sso) = self.org_sso(&org).await? else {
            return Ok(None);
        };
        let covered = sso.domains.contains(domain);
        Ok(sso.provider.filter(|_| covered))
    }

    /// The organization's single sign-on as its item holds it now (its verified domains
    /// current), if it is live.
    pub async fn org_sso(&self, org: &OrgId) -> StoreResult<Option<crate::domain::OrgSso>> {
        let item = self
            .get_item(
                Organization::key(org),
                "read an organization's single sign-on",
            )
            .await?;
        let Some(item) = item else {
            return Ok(None);
        };
        let org = Organization::from_item(&item)?;
        Ok(org.is_live().then_some(org.sso))
    }

    /// Every organization's provider, as the app client should list them, read consistently.
    pub async fn client_providers(&self) -> StoreResult<ClientProviders> {
        let item = self
            .get_item(client_key(), "read the identity providers' list")
            .await?;
        let Some(item) = item else {
            return Ok(ClientProviders {
                providers: BTreeSet::new(),
                version: 0,
                in_step: 0,
            });
        };
        let r = Reader(&item);
        Ok(ClientProviders {
            providers: r
                .string_set("providers", ProviderName::parse)
                .into_iter()
                .collect(),
            version: r.opt_n("version")?.unwrap_or(0),
            in_step: r.opt_n("in_step")?.unwrap_or(0),
        })
    }

    /// Notes that the app client lists the providers as of `version` (never going back).
    pub async fn client_in_step(&self, version: i64) -> StoreResult<()> {
        let mut tx = Tx::new(self);
        tx.update(
            client_key(),
            Expr::new("SET in_step = :version").value(":version", n(version)),
            Some(Condition::new(
                Expr::new("attribute_not_exists(in_step) OR in_step < :version")
                    .value(":version", n(version)),
                Refusal::Changed,
            )),
        )?;
        match tx.commit("note the app client in step").await {
            Err(StoreError::Refused(Refusal::Changed)) | Ok(()) => Ok(()),
            Err(other) => Err(other),
        }
    }
}
