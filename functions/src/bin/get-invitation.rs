//! `get-invitation`: see `orgs_functions::handlers::invitations::get_invitation`.
orgs_functions::lambda_main!(orgs_functions::handlers::invitations::get_invitation);
