//! `list-members`: see `orgs_functions::handlers::members::list_members`.
orgs_functions::lambda_main!(orgs_functions::handlers::members::list_members);
