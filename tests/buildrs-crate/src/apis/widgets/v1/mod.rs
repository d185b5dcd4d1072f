mod types;
pub use types::*;

include!(concat!(
    env!("OUT_DIR"),
    "/widgets/v1/zz_generated.register.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/widgets/v1/zz_generated.deepcopy.rs"
));
include!(concat!(
    env!("OUT_DIR"),
    "/widgets/v1/zz_generated.openapi.rs"
));
