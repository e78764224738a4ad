//! `rename-team`: see `orgs_functions::handlers::teams::rename_team`.
orgs_functions::lambda_main!(orgs_functions::handlers::teams::rename_team);
