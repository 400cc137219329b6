#ifndef SKIFF_PREAMBLE_H
#define SKIFF_PREAMBLE_H
int skiff_joined(void);
int skiff_inherited(void);
int skiff_pause_alive(void);
unsigned int skiff_orig_uid(void);
unsigned int skiff_orig_gid(void);
const char *skiff_runtime_dir(void);
const char *skiff_preamble_error(void);
unsigned long long skiff_proc_start_time(int pid);
#endif
