/*
 * The C side of the FMU benchmark: the same FMU binaries (dlopen), the same step size, the same
 * connections, unit conversions, Gauss-Seidel order and "write an input only when it changed"
 * rule as the TypeScript master, with no FFI in between. Built by scripts/build-native.ts into
 * native/build/bench/fmu-c-master; run by bench/fmu/fmu.bench.ts.
 *
 *   fmu-c-master single <lib.so> <guid> <steps> <h> <reps> <input vr> <input value> <output vr>...
 *   fmu-c-master motor <electrical.so> <guid> <thermal.so> <guid> <controller.so> <guid> <steps> <h> <reps> <load torque>
 *
 * Prints "ns_per_step <best over reps, CPU time>" and the final values with %.17g, so the bench can check
 * that both masters computed exactly the same thing.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tf_fmi2.h"

typedef struct {
    void *handle;
    fmi2Component c;
    fmi2InstantiateTYPE *instantiate;
    fmi2SetupExperimentTYPE *setup;
    fmi2EnterInitializationModeTYPE *enter;
    fmi2ExitInitializationModeTYPE *exit;
    fmi2DoStepTYPE *doStep;
    fmi2GetRealTYPE *getReal;
    fmi2SetRealTYPE *setReal;
    fmi2FreeInstanceTYPE *freeInstance;
} fmu;

static void logger(fmi2ComponentEnvironment env, fmi2String name, fmi2Status status, fmi2String category, fmi2String message, ...) {
    (void)env; (void)category;
    if (status >= fmi2Error) fprintf(stderr, "%s: %s\n", name, message);
}

static void *symbol(void *handle, const char *name) {
    void *f = dlsym(handle, name);
    if (!f) { fprintf(stderr, "missing %s\n", name); exit(1); }
    return f;
}

static fmu load(const char *path, const char *guid, const char *name) {
    static fmi2CallbackFunctions callbacks = { logger, calloc, free, NULL, NULL };
    fmu f;
    f.handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!f.handle) { fprintf(stderr, "%s\n", dlerror()); exit(1); }
    f.instantiate = symbol(f.handle, "fmi2Instantiate");
    f.setup = symbol(f.handle, "fmi2SetupExperiment");
    f.enter = symbol(f.handle, "fmi2EnterInitializationMode");
    f.exit = symbol(f.handle, "fmi2ExitInitializationMode");
    f.doStep = symbol(f.handle, "fmi2DoStep");
    f.getReal = symbol(f.handle, "fmi2GetReal");
    f.setReal = symbol(f.handle, "fmi2SetReal");
    f.freeInstance = symbol(f.handle, "fmi2FreeInstance");
    f.c = f.instantiate(name, fmi2CoSimulation, guid, "", &callbacks, fmi2False, fmi2False);
    if (!f.c) { fprintf(stderr, "%s: instantiate failed\n", name); exit(1); }
    if (f.setup(f.c, fmi2False, 0, 0, fmi2False, 0) > fmi2Warning || f.enter(f.c) > fmi2Warning) exit(1);
    return f;
}

static void check(fmi2Status status, const char *what) {
    if (status > fmi2Warning) { fprintf(stderr, "%s returned %d\n", what, status); exit(1); }
}

/* CPU time of this process: on a shared machine, wall time would also count time spent descheduled. */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- one FMU: doStep and read its outputs ---- */
static int single(int argc, char **argv) {
    if (argc < 10) return 2;
    fmu f = load(argv[2], argv[3], "single");
    const long steps = atol(argv[4]);
    const double h = atof(argv[5]);
    const int reps = atoi(argv[6]);
    const fmi2ValueReference in_vr = (fmi2ValueReference)atoi(argv[7]);
    const double in_value = atof(argv[8]);
    size_t n = (size_t)(argc - 9);
    fmi2ValueReference out_vr[16];
    double out[16];
    for (size_t i = 0; i < n && i < 16; i++) out_vr[i] = (fmi2ValueReference)atoi(argv[9 + i]);
    check(f.setReal(f.c, &in_vr, 1, &in_value), "setReal");
    check(f.exit(f.c), "exit");
    long k = 0;
    double best = 1e300;
    for (int r = 0; r <= reps; r++) { /* rep 0 warms up */
        const double t0 = now();
        for (long i = 0; i < steps; i++, k++) {
            const double t = (double)k * h, next = (double)(k + 1) * h;
            check(f.doStep(f.c, t, next - t, fmi2True), "doStep");
            check(f.getReal(f.c, out_vr, n, out), "getReal");
        }
        const ns = (now() - t0) / (double)steps * 1e9;
        if (r > 0 && ns < best) best = ns;
    }
    printf("ns_per_step %.1f\n", best);
    for (size_t i = 0; i < n; i++) printf("value %.17g\n", out[i]);
    f.freeInstance(f.c);
    return 0;
}

/* ---- the three-FMU motor, Gauss-Seidel: thermal, controller, electrical ---- */
enum { E_VOLTAGE = 1, E_LOAD = 2, E_SPEED = 3, E_CURRENT = 4 };
enum { T_CURRENT = 1, T_TEMPERATURE = 2 };
enum { C_SPEED = 2, C_TEMPERATURE = 3, C_VOLTAGE = 4 };

typedef struct {
    fmu e, t, c;
    /* input values as last written (like the TypeScript ports), and whether they changed */
    double e_in[1], t_in[1], c_in[2];
    int e_dirty, t_dirty, c_dirty;
    double e_out[2], t_out[1], c_out[1];
} motor;

static const fmi2ValueReference E_IN[] = { E_VOLTAGE }, E_OUT[] = { E_CURRENT, E_SPEED };
static const fmi2ValueReference T_IN[] = { T_CURRENT }, T_OUT[] = { T_TEMPERATURE };
static const fmi2ValueReference C_IN[] = { C_TEMPERATURE, C_SPEED }, C_OUT[] = { C_VOLTAGE };

/* Unit conversions of the connections, computed as the TypeScript master does: y = scale*x + offset. */
static const double RPM_PER_RAD_S = 1.0 / 0.10471975511965977; /* rad/s -> rpm */
static const double K_TO_DEGC_OFFSET = (0.0 - 273.15) / 1.0;    /* K -> degC: scale 1, offset (0 - 273.15) / 1 */

static void feed(double *slot, double value, int *dirty) {
    if (*slot != value) { *slot = value; *dirty = 1; }
}

static void propagate_thermal(motor *m) { feed(&m->c_in[0], 1.0 * m->t_out[0] + K_TO_DEGC_OFFSET, &m->c_dirty); }
static void propagate_controller(motor *m) { feed(&m->e_in[0], m->c_out[0], &m->e_dirty); }
static void propagate_electrical(motor *m) {
    feed(&m->t_in[0], m->e_out[0], &m->t_dirty);
    feed(&m->c_in[1], RPM_PER_RAD_S * m->e_out[1] + 0.0, &m->c_dirty);
}

static void write_inputs(motor *m) {
    if (m->t_dirty) { check(m->t.setReal(m->t.c, T_IN, 1, m->t_in), "thermal setReal"); m->t_dirty = 0; }
    if (m->c_dirty) { check(m->c.setReal(m->c.c, C_IN, 2, m->c_in), "controller setReal"); m->c_dirty = 0; }
    if (m->e_dirty) { check(m->e.setReal(m->e.c, E_IN, 1, m->e_in), "electrical setReal"); m->e_dirty = 0; }
}

static void exchange(motor *m) {
    if (m->t_dirty) { check(m->t.setReal(m->t.c, T_IN, 1, m->t_in), "setReal"); m->t_dirty = 0; }
    check(m->t.getReal(m->t.c, T_OUT, 1, m->t_out), "getReal");
    propagate_thermal(m);
    if (m->c_dirty) { check(m->c.setReal(m->c.c, C_IN, 2, m->c_in), "setReal"); m->c_dirty = 0; }
    check(m->c.getReal(m->c.c, C_OUT, 1, m->c_out), "getReal");
    propagate_controller(m);
    if (m->e_dirty) { check(m->e.setReal(m->e.c, E_IN, 1, m->e_in), "setReal"); m->e_dirty = 0; }
    check(m->e.getReal(m->e.c, E_OUT, 2, m->e_out), "getReal");
    propagate_electrical(m);
    write_inputs(m);
}

static void step(motor *m, double t, double next) {
    if (m->t_dirty) { check(m->t.setReal(m->t.c, T_IN, 1, m->t_in), "setReal"); m->t_dirty = 0; }
    check(m->t.doStep(m->t.c, t, next - t, fmi2True), "thermal doStep");
    check(m->t.getReal(m->t.c, T_OUT, 1, m->t_out), "getReal");
    propagate_thermal(m);
    if (m->c_dirty) { check(m->c.setReal(m->c.c, C_IN, 2, m->c_in), "setReal"); m->c_dirty = 0; }
    check(m->c.doStep(m->c.c, t, next - t, fmi2True), "controller doStep");
    check(m->c.getReal(m->c.c, C_OUT, 1, m->c_out), "getReal");
    propagate_controller(m);
    if (m->e_dirty) { check(m->e.setReal(m->e.c, E_IN, 1, m->e_in), "setReal"); m->e_dirty = 0; }
    check(m->e.doStep(m->e.c, t, next - t, fmi2True), "electrical doStep");
    check(m->e.getReal(m->e.c, E_OUT, 2, m->e_out), "getReal");
    propagate_electrical(m);
}

static int run_motor(int argc, char **argv) {
    if (argc < 12) return 2;
    motor m;
    memset(&m, 0, sizeof m);
    m.e = load(argv[2], argv[3], "electrical");
    m.t = load(argv[4], argv[5], "thermal");
    m.c = load(argv[6], argv[7], "controller");
    const long steps = atol(argv[8]);
    const double h = atof(argv[9]);
    const int reps = atoi(argv[10]);
    const double load_torque = atof(argv[11]);
    exchange(&m);
    check(m.e.exit(m.e.c), "exit");
    check(m.t.exit(m.t.c), "exit");
    check(m.c.exit(m.c.c), "exit");
    exchange(&m);
    const fmi2ValueReference load_vr = E_LOAD;
    check(m.e.setReal(m.e.c, &load_vr, 1, &load_torque), "setReal loadTorque");
    long k = 0;
    double best = 1e300;
    for (int r = 0; r <= reps; r++) { /* rep 0 warms up */
        const double t0 = now();
        for (long i = 0; i < steps; i++, k++) step(&m, (double)k * h, (double)(k + 1) * h);
        const ns = (now() - t0) / (double)steps * 1e9;
        if (r > 0 && ns < best) best = ns;
    }
    write_inputs(&m);
    printf("ns_per_step %.1f\n", best);
    printf("steps %ld\n", k);
    printf("value %.17g\nvalue %.17g\nvalue %.17g\nvalue %.17g\n", m.e_out[1], m.e_out[0], m.t_out[0], m.c_out[0]);
    m.e.freeInstance(m.e.c);
    m.t.freeInstance(m.t.c);
    m.c.freeInstance(m.c.c);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "single") == 0) return single(argc, argv);
    if (argc > 1 && strcmp(argv[1], "motor") == 0) return run_motor(argc, argv);
    fprintf(stderr, "usage: fmu-c-master single|motor ... (see bench/fmu/c_master.c)\n");
    return 2;
}
