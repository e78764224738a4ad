//! `list-my-suggestions`: see `orgs_functions::handlers::joining::list_my_suggestions`.
orgs_functions::lambda_main!(orgs_functions::handlers::joining::list_my_suggestions);
