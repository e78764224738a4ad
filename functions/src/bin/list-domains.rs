//! `list-domains`: see `orgs_functions::handlers::domains::list_domains`.
orgs_functions::lambda_main!(orgs_functions::handlers::domains::list_domains);
