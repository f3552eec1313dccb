/*
 * The contract between a Twinflow model (native/models/<name>.c) and the generic FMI wrappers
 * (native/wrappers/fmi2_cs.c, fmi3_cs.c). A model is written once; the same source is compiled
 * into an FMI 2.0 and an FMI 3.0 Co-Simulation FMU, so both give bit-identical results.
 *
 * Variables live in the generated struct tf_vars (build/gen/<name>/tf_model_vars.h, written by
 * scripts/build-native.ts from native/models/<name>.json); models read inputs and parameters
 * from it and write outputs into it. Private state (anything else) lives in the model's own
 * struct tf_model_state, which must be plain data (it is memcpy'd for FMU state get/set).
 */
#ifndef TF_MODEL_H
#define TF_MODEL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef TF_FMI_VERSION
#error "compile with -DTF_FMI_VERSION=2 or -DTF_FMI_VERSION=3"
#endif

#if TF_FMI_VERSION == 2
#include "tf_fmi2.h"
#else
#include "tf_fmi3.h"
#endif

#define TF_EXPORT __attribute__((visibility("default")))

/* Same numbering as fmi2Status / fmi3Status. */
typedef enum { TF_OK = 0, TF_WARNING = 1, TF_DISCARD = 2, TF_ERROR = 3, TF_FATAL = 4 } tf_status;

typedef enum {
    TF_FLOAT64, TF_FLOAT32, TF_INT8, TF_UINT8, TF_INT16, TF_UINT16, TF_INT32, TF_UINT32,
    TF_INT64, TF_UINT64, TF_BOOLEAN, TF_STRING, TF_BINARY
} tf_type;

typedef enum { TF_PARAMETER, TF_CALCULATED_PARAMETER, TF_INPUT, TF_OUTPUT, TF_LOCAL, TF_INDEPENDENT } tf_causality;
typedef enum { TF_CONSTANT, TF_FIXED, TF_TUNABLE, TF_DISCRETE, TF_CONTINUOUS } tf_variability;
typedef enum { TF_INITIAL_NONE, TF_INITIAL_EXACT, TF_INITIAL_APPROX, TF_INITIAL_CALCULATED } tf_initial;

/* Strings and binaries are fixed-capacity arrays inside tf_vars so that a memcpy is a deep copy. */
#define TF_STRING_CAPACITY 256
#define TF_BINARY_CAPACITY 256

typedef struct {
    const char    *name;
    tf_type        type;
    tf_causality   causality;
    tf_variability variability;
    tf_initial     initial;
    size_t         offset;      /* offsetof(tf_vars, field) */
    size_t         count;       /* array elements (1 for scalars) */
    size_t         size_offset; /* binaries: offsetof the size_t holding the current length */
    bool           fmi3_only;   /* types and arrays FMI 2.0 cannot express */
} tf_var_info;

/* What a model may use to log; FMI 2.0 passes format and arguments to the importer's variadic logger. */
typedef struct {
    const char *instance_name;
    bool        logging_on;
#if TF_FMI_VERSION == 2
    fmi2CallbackLogger       logger;
    fmi2ComponentEnvironment env;
#else
    fmi3LogMessageCallback  log_message;
    fmi3InstanceEnvironment env;
#endif
} tf_ctx;

#if TF_FMI_VERSION == 2
#define TF_LOG(ctx, status, category, ...)                                                            \
    do {                                                                                              \
        if ((ctx)->logger && ((ctx)->logging_on || (status) >= TF_ERROR))                             \
            (ctx)->logger((ctx)->env, (ctx)->instance_name, (fmi2Status)(status), (category), __VA_ARGS__); \
    } while (0)
#else
void tf_log3(const tf_ctx *ctx, tf_status status, const char *category, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
#define TF_LOG(ctx, status, category, ...) tf_log3((ctx), (status), (category), __VA_ARGS__)
#endif

#include "tf_model_vars.h" /* generated: tf_vars, VR_* constants, TF_VARS[], tf_vars_set_start() */

/* ---- implemented by every model ---- */
typedef struct tf_model_state tf_model_state;
extern const size_t TF_MODEL_STATE_SIZE;

/* Called at instantiation and reset, after the start values: default private state. */
void tf_model_start(tf_vars *v, tf_model_state *s);
/* Called when leaving initialization mode: consistent initial state and outputs at startTime. */
tf_status tf_model_initialize(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double start_time);
/* Outputs from the current state and inputs (called lazily before a get that follows a set). */
void tf_model_evaluate(tf_vars *v, tf_model_state *s);
/* Advance the state from t to t + h with inputs held. The wrapper then sets v->time = t + h and
   calls tf_model_evaluate, so outputs need not be computed here. Returning TF_DISCARD means nothing
   was advanced (the last successful time stays t). */
tf_status tf_model_step(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double t, double h);
/* Next scheduled time event after the current time, or INFINITY. */
double tf_model_next_time_event(const tf_vars *v, const tf_model_state *s);
/* Handle the time event at t (discrete state change); outputs are re-evaluated afterwards. */
tf_status tf_model_time_event(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double t);

/* For models without time events. */
#define TF_NO_TIME_EVENTS                                                                              \
    double tf_model_next_time_event(const tf_vars *v, const tf_model_state *s) {                      \
        (void)v; (void)s; return INFINITY;                                                             \
    }                                                                                                  \
    tf_status tf_model_time_event(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double t) {       \
        (void)ctx; (void)v; (void)s; (void)t; return TF_OK;                                            \
    }

/* Fixed-step classic Runge-Kutta over [t, t + h] in ceil(h / max_step) equal substeps. */
typedef void (*tf_derivatives_fn)(const tf_vars *v, const double *x, double *dx, size_t n);
static inline void tf_rk4(const tf_vars *v, tf_derivatives_fn f, double *x, size_t n, double h, double max_step) {
    enum { TF_RK4_MAX = 8 };
    double k1[TF_RK4_MAX], k2[TF_RK4_MAX], k3[TF_RK4_MAX], k4[TF_RK4_MAX], tmp[TF_RK4_MAX];
    long steps = (long)ceil(h / max_step - 1e-9);
    if (steps < 1) steps = 1;
    const double dt = h / (double)steps;
    for (long i = 0; i < steps; i++) {
        f(v, x, k1, n);
        for (size_t j = 0; j < n; j++) tmp[j] = x[j] + 0.5 * dt * k1[j];
        f(v, tmp, k2, n);
        for (size_t j = 0; j < n; j++) tmp[j] = x[j] + 0.5 * dt * k2[j];
        f(v, tmp, k3, n);
        for (size_t j = 0; j < n; j++) tmp[j] = x[j] + dt * k3[j];
        f(v, tmp, k4, n);
        for (size_t j = 0; j < n; j++) x[j] += dt / 6.0 * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j]);
    }
}

#endif /* TF_MODEL_H */
