/* Induction motor: equivalent-circuit torque and current, rotor inertia. See electrical.json. */
#include "tf_model.h"

struct tf_model_state { double synchronous_speed; };
const size_t TF_MODEL_STATE_SIZE = sizeof(struct tf_model_state);

/* Below this speed the load torque fades to zero, so a loaded motor at rest stays at rest. */
#define STICTION_SPEED 0.5

static double synchronous_speed(const tf_vars *v) { return 2.0 * M_PI * v->supplyFrequency / (double)v->polePairs; }

/* What the torque needs, computed once per step rather than per derivative evaluation. */
typedef struct {
    double inv_ws;         /* 1 / synchronous speed */
    double torque_factor;  /* 3 Vph^2 R2 / ws */
    double r1, r2, x;      /* stator and rotor resistance, leakage reactance */
    double load, inv_stiction, friction, inv_inertia;
} machine_constants;

static machine_constants constants(const tf_vars *v, double ws) {
    const double vph2 = v->voltage * v->voltage / 3.0;
    return (machine_constants){
        .inv_ws = 1.0 / ws, .torque_factor = 3.0 * vph2 * v->rotorResistance / ws,
        .r1 = v->statorResistance, .r2 = v->rotorResistance, .x = v->leakageReactance,
        .load = v->loadTorque, .inv_stiction = 1.0 / STICTION_SPEED, .friction = v->friction, .inv_inertia = 1.0 / v->inertia,
    };
}

/* Torque from slip s = 1 - w/ws, written with s in the numerator so that s = 0 is regular. */
static inline double torque_at(const machine_constants *m, double omega) {
    const double s = 1.0 - omega * m->inv_ws;
    const double r = m->r1 * s + m->r2;
    const double x = m->x * s;
    return m->torque_factor * s / (r * r + x * x);
}

static inline double acceleration(const machine_constants *m, double omega) {
    double fade = omega * m->inv_stiction;
    fade = fade < -1.0 ? -1.0 : fade > 1.0 ? 1.0 : fade;
    return (torque_at(m, omega) - m->load * fade - m->friction * omega) * m->inv_inertia;
}

void tf_model_start(tf_vars *v, tf_model_state *s) {
    v->speed = v->initialSpeed;
    s->synchronous_speed = v->polePairs > 0 ? synchronous_speed(v) : 0.0;
}

tf_status tf_model_initialize(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double start_time) {
    (void)start_time;
    if (v->polePairs < 1 || !(v->supplyFrequency > 0) || !(v->inertia > 0) || !(v->maxSolverStep > 0) ||
        !(v->rotorResistance > 0) || !(v->magnetizingReactance > 0)) {
        TF_LOG(ctx, TF_ERROR, "logStatusError",
               "polePairs (%d) must be at least 1; supplyFrequency (%g Hz), inertia (%g kg.m2), maxSolverStep (%g s), "
               "rotorResistance (%g Ohm) and magnetizingReactance (%g Ohm) must be positive",
               v->polePairs, v->supplyFrequency, v->inertia, v->maxSolverStep, v->rotorResistance, v->magnetizingReactance);
        return TF_ERROR;
    }
    v->speed = v->initialSpeed;
    s->synchronous_speed = synchronous_speed(v);
    return TF_OK;
}

void tf_model_evaluate(tf_vars *v, tf_model_state *st) {
    const double ws = st->synchronous_speed;
    if (!(ws > 0)) return;
    const double s = (ws - v->speed) / ws;
    const double vph = v->voltage / sqrt(3.0);
    const double r = v->statorResistance * s + v->rotorResistance;
    const double x = v->leakageReactance * s;
    const double den = r * r + x * x;
    v->torque = 3.0 * vph * vph * v->rotorResistance * s / (ws * den);
    /* Stator current: rotor branch Vph*s/(r + jx) plus magnetizing branch -j*Vph/Xm. */
    const double re = vph * s * r / den;
    const double im = -vph * s * x / den - vph / v->magnetizingReactance;
    v->current = sqrt(re * re + im * im);
    v->slip = s;
}

/* Classic fixed-step Runge-Kutta over [t, t + h] in ceil(h / maxSolverStep) equal substeps. */
tf_status tf_model_step(const tf_ctx *ctx, tf_vars *v, tf_model_state *st, double t, double h) {
    (void)ctx; (void)t;
    const machine_constants m = constants(v, st->synchronous_speed);
    long steps = (long)ceil(h / v->maxSolverStep - 1e-9);
    if (steps < 1) steps = 1;
    const double dt = h / (double)steps;
    double w = v->speed;
    for (long i = 0; i < steps; i++) {
        const double k1 = acceleration(&m, w);
        const double k2 = acceleration(&m, w + 0.5 * dt * k1);
        const double k3 = acceleration(&m, w + 0.5 * dt * k2);
        const double k4 = acceleration(&m, w + dt * k3);
        w += dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
    v->speed = w;
    return TF_OK;
}

TF_NO_TIME_EVENTS
