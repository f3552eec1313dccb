/*
 * Generic FMI 2.0 Co-Simulation wrapper around a Twinflow model (see tf_model.h). Compiled
 * together with one model source into <modelIdentifier>.so. Functions of Model Exchange are not
 * exported: these FMUs are Co-Simulation only.
 */
#include "tf_core.h"

#define INST ((tf_instance *)c)
#define LIVE_MASK TF_ANY_LIVE
#define GET_MASK (TF_M(TF_MODE_INITIALIZATION) | TF_M(TF_MODE_STEP) | TF_M(TF_MODE_TERMINATED) | TF_M(TF_MODE_INSTANTIATED))

TF_EXPORT const char *fmi2GetTypesPlatform(void) { return "default"; }
TF_EXPORT const char *fmi2GetVersion(void) { return "2.0"; }

TF_EXPORT fmi2Status fmi2SetDebugLogging(fmi2Component c, fmi2Boolean loggingOn, size_t nCategories, const fmi2String categories[]) {
    (void)nCategories; (void)categories;
    if (!tf_core_allowed(INST, "fmi2SetDebugLogging", LIVE_MASK)) return fmi2Error;
    INST->ctx.logging_on = loggingOn != fmi2False;
    return fmi2OK;
}

TF_EXPORT fmi2Component fmi2Instantiate(fmi2String instanceName, fmi2Type fmuType, fmi2String fmuGUID,
                                        fmi2String fmuResourceLocation, const fmi2CallbackFunctions *functions,
                                        fmi2Boolean visible, fmi2Boolean loggingOn) {
    (void)fmuResourceLocation; (void)visible;
    tf_ctx ctx = { .instance_name = instanceName ? instanceName : "", .logging_on = loggingOn != fmi2False,
                   .logger = functions ? functions->logger : NULL, .env = functions ? functions->componentEnvironment : NULL };
    if (!instanceName || !*instanceName) {
        TF_LOG(&ctx, TF_ERROR, "logStatusError", "fmi2Instantiate: instanceName is empty");
        return NULL;
    }
    if (fmuType != fmi2CoSimulation) {
        TF_LOG(&ctx, TF_ERROR, "logStatusError", "fmi2Instantiate: %s supports Co-Simulation only", TF_MODEL_IDENTIFIER);
        return NULL;
    }
    if (!fmuGUID || strcmp(fmuGUID, TF_INSTANTIATION_TOKEN) != 0) {
        TF_LOG(&ctx, TF_ERROR, "logStatusError", "fmi2Instantiate: GUID %s does not match %s", fmuGUID ? fmuGUID : "(null)",
               TF_INSTANTIATION_TOKEN);
        return NULL;
    }
    return tf_core_new(instanceName, &ctx);
}

TF_EXPORT void fmi2FreeInstance(fmi2Component c) { tf_core_free(INST); }

TF_EXPORT fmi2Status fmi2SetupExperiment(fmi2Component c, fmi2Boolean toleranceDefined, fmi2Real tolerance, fmi2Real startTime,
                                         fmi2Boolean stopTimeDefined, fmi2Real stopTime) {
    (void)toleranceDefined; (void)tolerance; (void)stopTimeDefined; (void)stopTime;
    if (!tf_core_allowed(INST, "fmi2SetupExperiment", TF_M(TF_MODE_INSTANTIATED))) return fmi2Error;
    INST->start_time = startTime;
    INST->st.v.time = startTime;
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2EnterInitializationMode(fmi2Component c) {
    if (!INST) return fmi2Error;
    return (fmi2Status)tf_core_enter_initialization(INST, INST->start_time);
}

TF_EXPORT fmi2Status fmi2ExitInitializationMode(fmi2Component c) {
    if (!INST) return fmi2Error;
    return (fmi2Status)tf_core_exit_initialization(INST, TF_MODE_STEP);
}

TF_EXPORT fmi2Status fmi2Terminate(fmi2Component c) {
    if (!tf_core_allowed(INST, "fmi2Terminate", TF_M(TF_MODE_STEP))) return fmi2Error;
    INST->st.mode = TF_MODE_TERMINATED;
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2Reset(fmi2Component c) {
    if (!INST) return fmi2Error;
    tf_core_reset(INST);
    return fmi2OK;
}

/* ---- getters and setters ---- */
TF_EXPORT fmi2Status fmi2GetReal(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, fmi2Real value[]) {
    if (!tf_core_allowed(INST, "fmi2GetReal", GET_MASK)) return fmi2Error;
    tf_core_evaluate_if_dirty(INST);
    for (size_t i = 0; i < nvr; i++) {
        const tf_var_info *info = tf_core_variable(INST, vr[i], TF_FLOAT64, "fmi2GetReal");
        if (!info) return (fmi2Status)tf_core_fail(INST, TF_ERROR);
        value[i] = *(const double *)tf_core_field(INST, info);
    }
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2GetInteger(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, fmi2Integer value[]) {
    if (!tf_core_allowed(INST, "fmi2GetInteger", GET_MASK)) return fmi2Error;
    tf_core_evaluate_if_dirty(INST);
    for (size_t i = 0; i < nvr; i++) {
        const tf_var_info *info = tf_core_variable(INST, vr[i], TF_INT32, "fmi2GetInteger");
        if (!info) return (fmi2Status)tf_core_fail(INST, TF_ERROR);
        value[i] = *(const int32_t *)tf_core_field(INST, info);
    }
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2GetBoolean(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, fmi2Boolean value[]) {
    if (!tf_core_allowed(INST, "fmi2GetBoolean", GET_MASK)) return fmi2Error;
    tf_core_evaluate_if_dirty(INST);
    for (size_t i = 0; i < nvr; i++) {
        const tf_var_info *info = tf_core_variable(INST, vr[i], TF_BOOLEAN, "fmi2GetBoolean");
        if (!info) return (fmi2Status)tf_core_fail(INST, TF_ERROR);
        value[i] = *(const bool *)tf_core_field(INST, info) ? fmi2True : fmi2False;
    }
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2GetString(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, fmi2String value[]) {
    if (!tf_core_allowed(INST, "fmi2GetString", GET_MASK)) return fmi2Error;
    tf_core_evaluate_if_dirty(INST);
    for (size_t i = 0; i < nvr; i++) {
        const tf_var_info *info = tf_core_variable(INST, vr[i], TF_STRING, "fmi2GetString");
        if (!info) return (fmi2Status)tf_core_fail(INST, TF_ERROR);
        value[i] = (const char *)tf_core_field(INST, info);
    }
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2SetReal(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, const fmi2Real value[]) {
    if (!tf_core_allowed(INST, "fmi2SetReal", LIVE_MASK)) return fmi2Error;
    for (size_t i = 0; i < nvr; i++) {
        const tf_var_info *info = tf_core_variable(INST, vr[i], TF_FLOAT64, "fmi2SetReal");
        if (!info || !tf_core_settable(INST, info, "fmi2SetReal")) return (fmi2Status)tf_core_fail(INST, TF_ERROR);
        *(double *)tf_core_field(INST, info) = value[i];
    }
    INST->st.dirty = true;
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2SetInteger(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, const fmi2Integer value[]) {
    if (!tf_core_allowed(INST, "fmi2SetInteger", LIVE_MASK)) return fmi2Error;
    for (size_t i = 0; i < nvr; i++) {
        const tf_var_info *info = tf_core_variable(INST, vr[i], TF_INT32, "fmi2SetInteger");
        if (!info || !tf_core_settable(INST, info, "fmi2SetInteger")) return (fmi2Status)tf_core_fail(INST, TF_ERROR);
        *(int32_t *)tf_core_field(INST, info) = value[i];
    }
    INST->st.dirty = true;
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2SetBoolean(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, const fmi2Boolean value[]) {
    if (!tf_core_allowed(INST, "fmi2SetBoolean", LIVE_MASK)) return fmi2Error;
    for (size_t i = 0; i < nvr; i++) {
        const tf_var_info *info = tf_core_variable(INST, vr[i], TF_BOOLEAN, "fmi2SetBoolean");
        if (!info || !tf_core_settable(INST, info, "fmi2SetBoolean")) return (fmi2Status)tf_core_fail(INST, TF_ERROR);
        *(bool *)tf_core_field(INST, info) = value[i] != fmi2False;
    }
    INST->st.dirty = true;
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2SetString(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, const fmi2String value[]) {
    if (!tf_core_allowed(INST, "fmi2SetString", LIVE_MASK)) return fmi2Error;
    for (size_t i = 0; i < nvr; i++) {
        const tf_var_info *info = tf_core_variable(INST, vr[i], TF_STRING, "fmi2SetString");
        if (!info || !tf_core_settable(INST, info, "fmi2SetString")) return (fmi2Status)tf_core_fail(INST, TF_ERROR);
        if (!value[i] || strlen(value[i]) >= TF_STRING_CAPACITY) {
            TF_LOG(&INST->ctx, TF_ERROR, "logStatusError", "fmi2SetString: %s must be at most %d bytes", info->name, TF_STRING_CAPACITY - 1);
            return (fmi2Status)tf_core_fail(INST, TF_ERROR);
        }
        strcpy((char *)tf_core_field(INST, info), value[i]);
    }
    INST->st.dirty = true;
    return fmi2OK;
}

/* ---- FMU state ---- */
TF_EXPORT fmi2Status fmi2GetFMUstate(fmi2Component c, fmi2FMUstate *state) {
    if (!tf_core_allowed(INST, "fmi2GetFMUstate", LIVE_MASK)) return fmi2Error;
    if (!*state) *state = malloc(tf_snapshot_size()); /* a non-NULL state is overwritten in place */
    if (!*state) return fmi2Error;
    tf_snapshot_take(INST, *state);
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2SetFMUstate(fmi2Component c, fmi2FMUstate state) {
    if (!tf_core_allowed(INST, "fmi2SetFMUstate", LIVE_MASK) || !state) return fmi2Error;
    tf_snapshot_restore(INST, state);
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2FreeFMUstate(fmi2Component c, fmi2FMUstate *state) {
    (void)c;
    if (state) { free(*state); *state = NULL; }
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2SerializedFMUstateSize(fmi2Component c, fmi2FMUstate state, size_t *size) {
    (void)c; (void)state;
    *size = tf_serialized_size();
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2SerializeFMUstate(fmi2Component c, fmi2FMUstate state, fmi2Byte serialized[], size_t size) {
    if (!INST || !state || size < tf_serialized_size()) return fmi2Error;
    const uint64_t tag = tf_serial_tag();
    memcpy(serialized, &tag, sizeof tag);
    memcpy(serialized + sizeof tag, state, tf_snapshot_size());
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2DeSerializeFMUstate(fmi2Component c, const fmi2Byte serialized[], size_t size, fmi2FMUstate *state) {
    uint64_t tag;
    if (!INST) return fmi2Error;
    if (size != tf_serialized_size() || (memcpy(&tag, serialized, sizeof tag), tag != tf_serial_tag())) {
        TF_LOG(&INST->ctx, TF_ERROR, "logStatusError", "fmi2DeSerializeFMUstate: the bytes are not a state of %s", TF_MODEL_IDENTIFIER);
        return fmi2Error;
    }
    if (!*state) *state = malloc(tf_snapshot_size());
    if (!*state) return fmi2Error;
    memcpy(*state, serialized + sizeof tag, tf_snapshot_size());
    return fmi2OK;
}

/* ---- not provided (capability flags say so) ---- */
static fmi2Status tf_not_provided(fmi2Component c, const char *function) {
    if (INST) TF_LOG(&INST->ctx, TF_ERROR, "logStatusError", "%s is not provided by %s", function, TF_MODEL_IDENTIFIER);
    return fmi2Error;
}

TF_EXPORT fmi2Status fmi2GetDirectionalDerivative(fmi2Component c, const fmi2ValueReference vUnknown[], size_t nUnknown,
                                                  const fmi2ValueReference vKnown[], size_t nKnown, const fmi2Real dvKnown[],
                                                  fmi2Real dvUnknown[]) {
    (void)vUnknown; (void)nUnknown; (void)vKnown; (void)nKnown; (void)dvKnown; (void)dvUnknown;
    return tf_not_provided(c, "fmi2GetDirectionalDerivative");
}
TF_EXPORT fmi2Status fmi2SetRealInputDerivatives(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                                                 const fmi2Integer order[], const fmi2Real value[]) {
    (void)vr; (void)nvr; (void)order; (void)value;
    return tf_not_provided(c, "fmi2SetRealInputDerivatives");
}
TF_EXPORT fmi2Status fmi2GetRealOutputDerivatives(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                                                  const fmi2Integer order[], fmi2Real value[]) {
    (void)vr; (void)nvr; (void)order; (void)value;
    return tf_not_provided(c, "fmi2GetRealOutputDerivatives");
}
TF_EXPORT fmi2Status fmi2CancelStep(fmi2Component c) { return tf_not_provided(c, "fmi2CancelStep"); }

/* ---- stepping ---- */
TF_EXPORT fmi2Status fmi2DoStep(fmi2Component c, fmi2Real currentCommunicationPoint, fmi2Real communicationStepSize,
                                fmi2Boolean noSetFMUStatePriorToCurrentPoint) {
    (void)noSetFMUStatePriorToCurrentPoint;
    tf_step_result result;
    if (!INST) return fmi2Error;
    /* FMI 2.0 has neither early return nor event mode: time events are handled inside the step. */
    return (fmi2Status)tf_core_do_step(INST, currentCommunicationPoint, communicationStepSize, false, false, &result);
}

TF_EXPORT fmi2Status fmi2GetStatus(fmi2Component c, const fmi2StatusKind s, fmi2Status *value) {
    (void)s; (void)value;
    return tf_not_provided(c, "fmi2GetStatus");
}

TF_EXPORT fmi2Status fmi2GetRealStatus(fmi2Component c, const fmi2StatusKind s, fmi2Real *value) {
    if (!INST) return fmi2Error;
    if (s != fmi2LastSuccessfulTime) return fmi2Discard;
    *value = INST->st.v.time;
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2GetIntegerStatus(fmi2Component c, const fmi2StatusKind s, fmi2Integer *value) {
    (void)c; (void)s; (void)value;
    return fmi2Discard;
}

TF_EXPORT fmi2Status fmi2GetBooleanStatus(fmi2Component c, const fmi2StatusKind s, fmi2Boolean *value) {
    if (!INST) return fmi2Error;
    if (s != fmi2Terminated) return fmi2Discard;
    *value = fmi2False;
    return fmi2OK;
}

TF_EXPORT fmi2Status fmi2GetStringStatus(fmi2Component c, const fmi2StatusKind s, fmi2String *value) {
    (void)c; (void)s; (void)value;
    return fmi2Discard;
}
