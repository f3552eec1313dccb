/* Test FMU: every FMI 3.0 variable type in and out. */
#include <stdio.h>
#include <string.h>
#include "tf_model.h"

struct tf_model_state { int unused; };
const size_t TF_MODEL_STATE_SIZE = sizeof(struct tf_model_state);

void tf_model_start(tf_vars *v, tf_model_state *s) { (void)v; (void)s; }
tf_status tf_model_initialize(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double start_time) {
    (void)ctx; (void)v; (void)s; (void)start_time;
    return TF_OK;
}
void tf_model_evaluate(tf_vars *v, tf_model_state *s) {
    (void)s;
    v->f64Out = v->f64In * 2;
    v->i32Out = v->i32In + 1;
    v->boolOut = !v->boolIn;
    snprintf(v->stringOut, sizeof v->stringOut, "echo: %.240s", v->stringIn);
    v->f32Out = v->f32In * 2.0f;
    v->i8Out = (int8_t)(v->i8In + 1);
    v->u8Out = (uint8_t)(v->u8In + 1);
    v->i16Out = (int16_t)(v->i16In + 1);
    v->u16Out = (uint16_t)(v->u16In + 1);
    v->u32Out = v->u32In + 1u;
    v->i64Out = v->i64In + 1;
    v->u64Out = v->u64In + 1u;
    v->binaryOut_size = v->binaryIn_size;
    for (size_t i = 0; i < v->binaryIn_size; i++) v->binaryOut[i] = v->binaryIn[v->binaryIn_size - 1 - i];
    for (int i = 0; i < 3; i++) v->vectorOut[i] = v->vectorIn[i] * 2;
}
tf_status tf_model_step(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double t, double h) {
    (void)ctx; (void)v; (void)s; (void)t; (void)h;
    return TF_OK;
}
TF_NO_TIME_EVENTS
