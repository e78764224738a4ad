use super::*;

fn org() -> OrgId {
    OrgId::parse("org_0123456789abcdef0123456789abcdef").unwrap()
}

fn domain(d: &str) -> EmailDomain {
    EmailDomain::parse("domain", d).unwrap()
}

fn saml_url<'a>() -> RawSso<'a> {
    RawSso {
        saml: true,
        metadata_url: Some("https://acme.okta.com/app/exk1/sso/saml/metadata"),
        ..RawSso::default()
    }
}

fn oidc<'a>(secret: Option<&'a str>) -> RawSso<'a> {
    RawSso {
        oidc: Some(RawOidc {
            issuer: "https://login.microsoftonline.com/tenant/v2.0",
            client_id: "client-1",
            client_secret: secret,
            scopes: None,
        }),
        ..RawSso::default()
    }
}

fn codes(raw: &RawSso<'_>) -> Vec<(String, &'static str)> {
    SsoSpec::parse(raw)
        .unwrap_err()
        .into_vec()
        .into_iter()
        .map(|e| (e.field, e.code))
        .collect()
}

#[test]
fn a_provider_is_named_from_its_organization_within_cognitos_32_characters() {
    let name = ProviderName::of(&org());
    assert_eq!(name.as_str(), "o-0123456789abcdef0123456789abcd");
    assert_eq!(name.as_str().len(), 32);
    assert!(!name.as_str().contains('_'));
    assert_eq!(ProviderName::parse(name.as_str()), Some(name));
    for other in [
        "COGNITO",
        "Google",
        "o-short",
        "o-0123456789ABCDEF0123456789ABCD",
    ] {
        assert_eq!(ProviderName::parse(other), None, "{other}");
    }
}

#[test]
fn saml_by_url_gets_the_default_claims_and_the_member_role() {
    let spec = SsoSpec::parse(&saml_url()).unwrap();
    assert_eq!(spec.protocol.kind(), "saml");
    assert_eq!(spec.default_role, RoleName::System(Role::Member));
    assert!(spec.mapping.email.ends_with("/claims/emailaddress"));
    assert_eq!(
        spec.protocol.provider_details(None),
        vec![
            (
                "MetadataURL",
                "https://acme.okta.com/app/exk1/sso/saml/metadata".to_owned()
            ),
            ("IDPSignout", "false".to_owned()),
        ]
    );
}

#[test]
fn saml_takes_a_url_or_a_document_never_both_nor_plain_http() {
    let both = RawSso {
        metadata_document: Some("<EntityDescriptor/>"),
        ..saml_url()
    };
    assert_eq!(codes(&both), [("saml".to_owned(), "invalid_metadata")]);
    let http = RawSso {
        metadata_url: Some("http://acme.okta.com/metadata"),
        ..saml_url()
    };
    assert_eq!(
        codes(&http),
        [("saml.metadata_url".to_owned(), "invalid_url")]
    );
    let not_xml = RawSso {
        saml: true,
        metadata_document: Some("hello"),
        ..RawSso::default()
    };
    assert_eq!(
        codes(&not_xml),
        [("saml.metadata_document".to_owned(), "invalid_metadata")]
    );
    let document = RawSso {
        saml: true,
        metadata_document: Some(" <md:EntityDescriptor entityID=\"x\"/> "),
        ..RawSso::default()
    };
    let spec = SsoSpec::parse(&document).unwrap();
    assert_eq!(
        spec.protocol,
        Protocol::Saml(SamlMetadata::Document(
            "<md:EntityDescriptor entityID=\"x\"/>".into()
        ))
    );
}

#[test]
fn exactly_one_protocol() {
    let neither = RawSso::default();
    assert_eq!(codes(&neither), [("saml".to_owned(), "invalid_protocol")]);
    let both = RawSso {
        saml: true,
        ..oidc(Some("s3cret"))
    };
    assert_eq!(codes(&both), [("saml".to_owned(), "invalid_protocol")]);
}

#[test]
fn oidc_defaults_its_scopes_and_passes_the_secret_only_to_cognito() {
    let spec = SsoSpec::parse(&oidc(Some("s3cret"))).unwrap();
    let details = spec.protocol.provider_details(None);
    assert!(details.contains(&("authorize_scopes", "openid email profile".into())));
    assert!(details.contains(&("client_secret", "s3cret".into())));
    assert!(!format!("{spec:?}").contains("s3cret"));
    assert_eq!(spec.mapping.email, "email");
}

#[test]
fn oidc_without_a_secret_keeps_the_one_cognito_holds() {
    let spec = SsoSpec::parse(&oidc(None)).unwrap();
    let kept = ClientSecret("old".into());
    assert!(
        spec.protocol
            .provider_details(Some(&kept))
            .contains(&("client_secret", "old".into()))
    );
    assert!(
        !spec
            .protocol
            .provider_details(None)
            .iter()
            .any(|(name, _)| *name == "client_secret")
    );
}

#[test]
fn oidc_scopes_need_openid_and_no_quotes() {
    for scopes in [vec!["email"], vec!["openid", "a\"b"], vec!["openid", ""]] {
        let mut raw = oidc(Some("s"));
        raw.oidc.as_mut().unwrap().scopes = Some(scopes.clone());
        assert_eq!(
            codes(&raw),
            [("oidc.scopes".to_owned(), "invalid_scopes")],
            "{scopes:?}"
        );
    }
    let mut raw = oidc(Some("s"));
    raw.oidc.as_mut().unwrap().client_id = "has space";
    assert_eq!(
        codes(&raw),
        [("oidc.client_id".to_owned(), "invalid_client")]
    );
}

#[test]
fn nobody_is_provisioned_as_an_owner() {
    let owner = RawSso {
        default_role: Some("owner"),
        ..saml_url()
    };
    assert_eq!(
        codes(&owner),
        [("default_role".to_owned(), "invalid_default_role")]
    );
    let custom = RawSso {
        default_role: Some("billing-manager"),
        default_teams: vec![RawTeam {
            team_id: "team_0123456789abcdef0123456789abcdef",
            role: Some("maintainer"),
        }],
        ..saml_url()
    };
    let spec = SsoSpec::parse(&custom).unwrap();
    assert_eq!(spec.default_role.as_str(), "billing-manager");
    assert_eq!(spec.default_teams.len(), 1);
}

#[test]
fn identifiers_are_the_domains_cognito_accepts() {
    let long = format!("{}.com", "a".repeat(40));
    let ids = identifiers(&[domain("acme.com"), domain(&long), domain("acme.co.uk")]);
    assert_eq!(ids, ["acme.com", "acme.co.uk"]);
}

#[test]
fn the_client_keeps_the_deployers_providers_and_exactly_ours() {
    let a = ProviderName::of(&org());
    let gone = "o-ffffffffffffffffffffffffffffff".to_owned();
    let current = vec!["COGNITO".to_owned(), gone, "Google".to_owned()];
    let ours = BTreeSet::from([a.clone()]);
    assert_eq!(
        client_providers(&current, &ours),
        ["COGNITO", "Google", a.as_str()]
    );
    assert_eq!(
        client_providers(&current, &BTreeSet::new()),
        ["COGNITO", "Google"]
    );
}

#[test]
fn the_identities_attribute_names_the_provider_of_a_federated_sign_in() {
    // As Cognito puts it in a trigger event's userAttributes.
    let identities = r#"[{"userId":"bob@acme.com","providerName":"o-0123456789abcdef0123456789abcd","providerType":"SAML","issuer":"http://www.okta.com/exk1","primary":"true","dateCreated":"1733900000000"}]"#;
    assert_eq!(
        signed_in_through(Some(identities)),
        [ProviderName::of(&org())]
    );
    let google = r#"[{"userId":"1","providerName":"Google","providerType":"Google","issuer":null,"primary":"true","dateCreated":"1"}]"#;
    assert!(signed_in_through(Some(google)).is_empty());
    assert!(signed_in_through(None).is_empty());
    assert!(signed_in_through(Some("not json")).is_empty());
}

#[test]
fn provisioning_needs_the_organizations_provider_and_one_of_its_domains() {
    let sso = OrgSso {
        provider: Some(ProviderName::of(&org())),
        required: false,
        domains: vec![domain("acme.com")],
    };
    let through = [ProviderName::of(&org())];
    assert!(sso.provisions(Some("Bob@Acme.com"), &through));
    assert!(!sso.provisions(Some("bob@gmail.com"), &through));
    assert!(!sso.provisions(Some("bob@sub.acme.com"), &through));
    assert!(!sso.provisions(Some("bob@acme.com"), &[]));
    assert!(!OrgSso::default().provisions(Some("bob@acme.com"), &through));
}

#[test]
fn required_sso_shuts_out_only_its_domains_signing_in_otherwise() {
    let mut sso = OrgSso {
        provider: Some(ProviderName::of(&org())),
        required: true,
        domains: vec![domain("acme.com")],
    };
    let through = [ProviderName::of(&org())];
    assert!(sso.shuts_out(Some("bob@acme.com"), &[]));
    assert!(!sso.shuts_out(Some("bob@acme.com"), &through));
    // A contractor at another domain signs in as they always did.
    assert!(!sso.shuts_out(Some("carol@agency.io"), &[]));
    assert!(sso.requires_of(Some("bob@acme.com")) && !sso.requires_of(Some("carol@agency.io")));
    sso.required = false;
    assert!(!sso.shuts_out(Some("bob@acme.com"), &[]));
}

#[test]
fn a_stored_connection_never_holds_the_secret_and_counts_its_versions() {
    let at = crate::domain::Timestamp::parse("2026-12-07T10:00:00.000Z").unwrap();
    let spec = SsoSpec::parse(&oidc(Some("s3cret"))).unwrap();
    let first = SsoConnection::from_spec(&org(), spec.clone(), vec![domain("acme.com")], None, at);
    assert!(matches!(
        &first.protocol,
        Protocol::Oidc {
            client_secret: None,
            ..
        }
    ));
    assert_eq!((first.version, first.created_at), (1, at));
    let later = crate::domain::Timestamp::parse("2026-12-08T10:00:00.000Z").unwrap();
    let second = SsoConnection::from_spec(&org(), spec, vec![], Some(&first), later);
    assert_eq!(
        (second.version, second.created_at, second.updated_at),
        (2, at, later)
    );
}

#[test]
fn only_the_same_oidc_client_keeps_its_secret() {
    let at = crate::domain::Timestamp::parse("2026-12-07T10:00:00.000Z").unwrap();
    let stored = SsoConnection::from_spec(
        &org(),
        SsoSpec::parse(&oidc(Some("s"))).unwrap(),
        vec![],
        None,
        at,
    );
    let same = SsoSpec::parse(&oidc(None)).unwrap();
    assert!(may_keep_secret(&same, Some(&stored)));
    assert!(!may_keep_secret(&same, None));
    let mut other = oidc(None);
    other.oidc.as_mut().unwrap().client_id = "client-2";
    assert!(!may_keep_secret(
        &SsoSpec::parse(&other).unwrap(),
        Some(&stored)
    ));
    let saml = SsoConnection::from_spec(
        &org(),
        SsoSpec::parse(&saml_url()).unwrap(),
        vec![],
        None,
        at,
    );
    assert!(!may_keep_secret(&same, Some(&saml)));
}

#[test]
fn provisioning_falls_back_to_member_for_a_role_gone_and_leaves_out_teams_gone() {
    let at = crate::domain::Timestamp::parse("2026-12-07T10:00:00.000Z").unwrap();
    let live = TeamId::parse("team_0123456789abcdef0123456789abcdef").unwrap();
    let gone = TeamId::parse("team_ffffffffffffffffffffffffffffffff").unwrap();
    let raw = RawSso {
        default_role: Some("engineer"),
        default_teams: vec![
            RawTeam {
                team_id: live.as_str(),
                role: Some("reviewer"),
            },
            RawTeam {
                team_id: gone.as_str(),
                role: None,
            },
        ],
        ..saml_url()
    };
    let connection =
        SsoConnection::from_spec(&org(), SsoSpec::parse(&raw).unwrap(), vec![], None, at);
    let role = |key: &str, scope| (RoleKey::parse(key).unwrap(), scope);
    let (given, teams) = provisioned_access(
        &connection,
        &[
            role("engineer", RoleScope::Organization),
            role("reviewer", RoleScope::Team),
        ],
        std::slice::from_ref(&live),
    );
    assert_eq!(given.as_str(), "engineer");
    assert_eq!(teams.len(), 1);
    assert_eq!(teams[0].role.as_str(), "reviewer");
    // Both custom roles deleted (or of the other scope) since the connection was set.
    let (given, teams) = provisioned_access(
        &connection,
        &[role("engineer", RoleScope::Team)],
        std::slice::from_ref(&live),
    );
    assert_eq!(given, RoleName::System(Role::Member));
    assert_eq!(teams[0].role, TeamRole::Member);
}
