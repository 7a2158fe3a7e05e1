// What the test doubles here ask of a descriptor before failing a call on it.
#pragma once

namespace paychan::persistence::test {

// Whether `fd` is open on a voucher log segment (a file named *-vlog or *-vlog1).
[[nodiscard]] bool is_voucher_log(int fd);

}  // namespace paychan::persistence::test
