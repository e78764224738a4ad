//! One module per resource; one public function per operation.

pub mod audit;
pub mod events;
pub mod me;
pub mod orgs;
