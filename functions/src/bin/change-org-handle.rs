//! `change-org-handle`: see `orgs_functions::handlers::orgs::change_org_handle`.
orgs_functions::lambda_main!(orgs_functions::handlers::orgs::change_org_handle);
