//! `accept-invitation`: see `orgs_functions::handlers::invitee::accept_invitation`.
orgs_functions::lambda_main!(orgs_functions::handlers::invitee::accept_invitation);
