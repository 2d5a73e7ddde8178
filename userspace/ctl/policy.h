/* SPDX-License-Identifier: GPL-2.0 */
#ifndef FUSEBPF_CTL_POLICY_H
#define FUSEBPF_CTL_POLICY_H

/*
 * `fusebpfctl policy check FILE` and `policy load FILE [TARGET]`.
 * argv[0] is "policy". Returns 0, 1 on a bad file or load failure, 2 on a
 * usage error.
 */
int cmd_policy(int argc, char **argv);

#endif /* FUSEBPF_CTL_POLICY_H */
