//! Keeps the app client's list of identity providers in step with the table's list of the
//! organizations' providers (`store/sso.rs`), which DynamoDB serializes: each change moves the
//! list's version. A function brings the client in step, then reads the version again; if
//! another change moved it meanwhile (whose own update may have landed before this one's and
//! been overwritten), it does it again. So the last update to land is always one made from the
//! list as it stands, however many organizations change theirs at once. A function that fails
//! half-way leaves it to the next change, or to the schedule (`sync-sso-client`).

use orgs_shared::app::App;
use orgs_shared::domain::sso::identifiers;
use orgs_shared::domain::{OrgId, ProviderName};
use orgs_shared::idp::{IdentityProviders, IdpError};
use orgs_shared::store::StoreError;

/// How many times one function goes round before leaving it to the next change or the schedule.
const ROUNDS: usize = 5;

/// Why the client could not be brought in step.
#[derive(Debug, thiserror::Error)]
pub enum OutOfStep {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Idp(#[from] IdpError),
    #[error("the providers' list kept changing for {ROUNDS} rounds")]
    KeptChanging,
}

/// Brings the app client in step, leaving `except` out of it (a provider about to be deleted);
/// the version it confirmed, once the list stayed still.
pub async fn bring_in_step(
    app: &App,
    idp: &IdentityProviders,
    except: Option<&ProviderName>,
) -> Result<i64, OutOfStep> {
    for _ in 0..ROUNDS {
        let listed = app.store.client_providers().await?;
        let mut providers = listed.providers;
        if let Some(gone) = except {
            providers.remove(gone);
        }
        idp.set_client_providers(&providers).await?;
        let now = app.store.client_providers().await?;
        if now.version == listed.version {
            // The schedule goes by this; a list with one provider left out is not it.
            if except.is_none() {
                app.store.client_in_step(listed.version).await?;
            }
            return Ok(listed.version);
        }
    }
    Err(OutOfStep::KeptChanging)
}

/// `bring_in_step` for a request whose change is already stored: a failure is logged, and the
/// next change or the schedule finishes the job.
pub async fn keep_client_in_step(
    app: &App,
    idp: &IdentityProviders,
    except: Option<&ProviderName>,
) {
    if let Err(e) = bring_in_step(app, idp, except).await {
        let chain = orgs_shared::logs::error_chain(&e);
        tracing::warn!(
            "the app client's providers are not in step yet (the schedule will finish): {chain}"
        );
    }
}

/// Gives the organization's identity provider its verified domains as they are now, after one
/// was verified, removed or lapsed: a domain it lost must not stay its identifier (Cognito
/// allows an identifier to one provider of the pool, and another organization may verify the
/// domain next). A failure is logged; the next change of its domains or connection repeats it.
pub async fn refresh_identifiers(app: &App, org: &OrgId) {
    let Some(idp) = app.idp() else {
        return;
    };
    let refreshed = async {
        let Some(sso) = app.store.org_sso(org).await? else {
            return Ok::<_, OutOfStep>(());
        };
        if let Some(provider) = &sso.provider {
            idp.set_identifiers(provider, identifiers(&sso.domains))
                .await?;
        }
        Ok(())
    };
    if let Err(e) = refreshed.await {
        let chain = orgs_shared::logs::error_chain(&e);
        tracing::warn!(org_id = %org, "the identity provider's domains are not refreshed: {chain}");
    }
}

/// The schedule's part: brings the app client in step if a change was stored since it last
/// was (a function that stored one failed before, or timed out). One read when nothing is due.
pub async fn catch_up(app: &App) -> &'static str {
    let Some(idp) = app.idp() else {
        return "off";
    };
    let caught_up = async {
        if !app.store.client_providers().await?.behind() {
            return Ok::<_, OutOfStep>("in step");
        }
        bring_in_step(app, idp, None).await?;
        Ok("brought in step")
    };
    match caught_up.await {
        Ok(said) => said,
        Err(e) => {
            let chain = orgs_shared::logs::error_chain(&e);
            tracing::error!("the app client's providers could not be brought in step: {chain}");
            "failed"
        }
    }
}
