//! `decline-invitation`: see `orgs_functions::handlers::invitee::decline_invitation`.
orgs_functions::lambda_main!(orgs_functions::handlers::invitee::decline_invitation);
