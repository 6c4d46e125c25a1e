/* majority_election_nofaults.pml -- Spin twin of majority_election_nofaults.ha
 * (the protocol of specs/majority_election.ha without its faults block).
 * The encoding is in majority_election.pmh (read its header): one process,
 * one do-loop of d_step alternatives over globals that mirror the modelcheck
 * state, the `delivery set` network as one bit per (src, dst, kind, term).
 * Consts N (default 3) and MAX_TERM (default 2): spin -DN=4 ...
 * Expected (offset 0, = modelcheck distinct_states):
 *   N=3: 912 states, stored    N=4: 27,997    N=5: 1,184,298    (MAX_TERM=2)
 *
 * Run (bench/spin_crosscheck.py does this in a temporary directory, with the
 * .pmh copied alongside):
 *   spin -o1 -o2 -o3 -a M.pml && gcc -O2 -DNOREDUCE -DSAFETY -o pan pan.c && ./pan
 */
#include "majority_election.pmh"
