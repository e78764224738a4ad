//! `remove-team-member`: see `orgs_functions::handlers::teams::remove_team_member`.
//! Written from the catalog: UPDATE_INFRA=1 cargo test --locked -p orgs-functions --lib spec rewrites it.
orgs_functions::lambda_main!(orgs_functions::handlers::teams::remove_team_member, needs TeamsManage or team maintainer);
