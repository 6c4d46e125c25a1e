/* majority_election_crash.pml -- Spin twin of majority_election_crash.ha
 * (the protocol of specs/majority_election.ha under `crash Server at most 1`
 * and `restart` only). The encoding is in majority_election.pmh (read its
 * header); CRASH adds up[N] and the crash budget cb to the state.
 * Consts N (default 3) and MAX_TERM (default 2): spin -DN=4 ...
 * Offset 0: Spin's "states, stored" = modelcheck's distinct_states.
 * Expected (MAX_TERM=2): N=3: 6,084 states, stored    N=4: 186,962
 */
#define CRASH
#include "majority_election.pmh"
