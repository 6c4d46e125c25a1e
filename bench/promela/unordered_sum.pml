/* unordered_sum.pml -- Spin twin of unordered_sum.ha (= tests/models/unordered.ha).
 * Expected: 15 states, stored (modelcheck: 15 distinct states).
 *
 * Encoding: one process, one do-loop of d_step alternatives over globals, so
 * that every Spin state is exactly one modelcheck state:
 *   sent, sum        the node variables S.sent, R.sum
 *   c1, c2           the in-flight multiset: copies of Val(1), Val(2) on S->R
 * d_step makes each alternative one indivisible transition (no intermediate
 * states are stored) and the loop head is the only control location, so the
 * program counter adds nothing. `end:` marks the loop head as a valid end
 * state (the model quiesces once everything is delivered). The invariant is
 * an assert at the end of every step (no never claim, which would multiply
 * the state count).
 *
 * Run (bench/spin_crosscheck.py does this in a temporary directory):
 *   spin -o1 -o2 -o3 -a M.pml && gcc -O2 -DNOREDUCE -DSAFETY -o pan pan.c && ./pan
 * and read "N states, stored". -o2 matters: by default Spin hides write-only
 * variables from the state vector (e.g. a variable only assigned, never
 * read), which merges states that modelcheck keeps apart. -o1/-o3 (dataflow
 * optimisations, statement merging) cannot change this encoding's count but
 * are turned off so nothing but the model decides it. -DNOREDUCE: no
 * partial-order reduction. Offset: none -- the initial state is stored and
 * counted like any other, there is no extra end state, so Spin's count must
 * equal modelcheck's distinct_states exactly.
 */
byte sent = 0;
byte sum = 0;
byte c1 = 0;
byte c2 = 0;

#define INV  assert(sum <= 2 * sent)

active proctype world() {
end:
  do
  :: d_step { sent < 2 -> sent++; c1++; INV }          /* S.emit(1) */
  :: d_step { sent < 2 -> sent++; c2++; INV }          /* S.emit(2) */
  :: d_step { c1 > 0 -> c1--; sum = sum + 1; INV }     /* R <- Val(1) */
  :: d_step { c2 > 0 -> c2--; sum = sum + 2; INV }     /* R <- Val(2) */
  od
}
