/*
 * Twinflow's own declarations of the FMI 2.0 Co-Simulation C API, written from the
 * FMI 2.0.x specification (sections 2.1 and 4.2). Only what our FMUs, the logger shim and
 * the benchmark master need. The ABI (type sizes, enum values, struct layout, argument order)
 * must match the standard exactly: an FMU built with these declarations is loaded by any
 * FMI 2.0 importer, and our importer loads any FMI 2.0 FMU.
 */
#ifndef TF_FMI2_H
#define TF_FMI2_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Platform types of the "default" platform: int booleans, double reals, opaque pointers. */
typedef void         *fmi2Component;
typedef void         *fmi2ComponentEnvironment;
typedef void         *fmi2FMUstate;
typedef unsigned int  fmi2ValueReference;
typedef double        fmi2Real;
typedef int           fmi2Integer;
typedef int           fmi2Boolean;
typedef char          fmi2Char;
typedef const fmi2Char *fmi2String;
typedef char          fmi2Byte;

#define fmi2True  1
#define fmi2False 0

/* Enumerations: the numeric values are part of the ABI. */
typedef enum { fmi2OK = 0, fmi2Warning = 1, fmi2Discard = 2, fmi2Error = 3, fmi2Fatal = 4, fmi2Pending = 5 } fmi2Status;
typedef enum { fmi2ModelExchange = 0, fmi2CoSimulation = 1 } fmi2Type;
typedef enum { fmi2DoStepStatus = 0, fmi2PendingStatus = 1, fmi2LastSuccessfulTime = 2, fmi2Terminated = 3 } fmi2StatusKind;

/* The logger is variadic: message is a printf format followed by its arguments. */
typedef void  (*fmi2CallbackLogger)(fmi2ComponentEnvironment env, fmi2String instanceName,
                                    fmi2Status status, fmi2String category, fmi2String message, ...);
typedef void *(*fmi2CallbackAllocateMemory)(size_t nobj, size_t size);
typedef void  (*fmi2CallbackFreeMemory)(void *obj);
typedef void  (*fmi2StepFinished)(fmi2ComponentEnvironment env, fmi2Status status);

/* Five pointer-sized members, in this order (no const members since FMI 2.0.1). */
typedef struct {
    fmi2CallbackLogger         logger;
    fmi2CallbackAllocateMemory allocateMemory;
    fmi2CallbackFreeMemory     freeMemory;
    fmi2StepFinished           stepFinished;
    fmi2ComponentEnvironment   componentEnvironment;
} fmi2CallbackFunctions;

/* Function types, used by importers that load the functions with dlsym. */
typedef const char   *fmi2GetTypesPlatformTYPE(void);
typedef const char   *fmi2GetVersionTYPE(void);
typedef fmi2Status    fmi2SetDebugLoggingTYPE(fmi2Component c, fmi2Boolean loggingOn, size_t nCategories, const fmi2String categories[]);
typedef fmi2Component fmi2InstantiateTYPE(fmi2String instanceName, fmi2Type fmuType, fmi2String fmuGUID,
                                          fmi2String fmuResourceLocation, const fmi2CallbackFunctions *functions,
                                          fmi2Boolean visible, fmi2Boolean loggingOn);
typedef void          fmi2FreeInstanceTYPE(fmi2Component c);
typedef fmi2Status    fmi2SetupExperimentTYPE(fmi2Component c, fmi2Boolean toleranceDefined, fmi2Real tolerance,
                                              fmi2Real startTime, fmi2Boolean stopTimeDefined, fmi2Real stopTime);
typedef fmi2Status    fmi2EnterInitializationModeTYPE(fmi2Component c);
typedef fmi2Status    fmi2ExitInitializationModeTYPE(fmi2Component c);
typedef fmi2Status    fmi2TerminateTYPE(fmi2Component c);
typedef fmi2Status    fmi2ResetTYPE(fmi2Component c);
typedef fmi2Status    fmi2GetRealTYPE(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, fmi2Real value[]);
typedef fmi2Status    fmi2GetIntegerTYPE(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, fmi2Integer value[]);
typedef fmi2Status    fmi2GetBooleanTYPE(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, fmi2Boolean value[]);
typedef fmi2Status    fmi2GetStringTYPE(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, fmi2String value[]);
typedef fmi2Status    fmi2SetRealTYPE(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, const fmi2Real value[]);
typedef fmi2Status    fmi2SetIntegerTYPE(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, const fmi2Integer value[]);
typedef fmi2Status    fmi2SetBooleanTYPE(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, const fmi2Boolean value[]);
typedef fmi2Status    fmi2SetStringTYPE(fmi2Component c, const fmi2ValueReference vr[], size_t nvr, const fmi2String value[]);
typedef fmi2Status    fmi2GetFMUstateTYPE(fmi2Component c, fmi2FMUstate *state);
typedef fmi2Status    fmi2SetFMUstateTYPE(fmi2Component c, fmi2FMUstate state);
typedef fmi2Status    fmi2FreeFMUstateTYPE(fmi2Component c, fmi2FMUstate *state);
typedef fmi2Status    fmi2SerializedFMUstateSizeTYPE(fmi2Component c, fmi2FMUstate state, size_t *size);
typedef fmi2Status    fmi2SerializeFMUstateTYPE(fmi2Component c, fmi2FMUstate state, fmi2Byte serialized[], size_t size);
typedef fmi2Status    fmi2DeSerializeFMUstateTYPE(fmi2Component c, const fmi2Byte serialized[], size_t size, fmi2FMUstate *state);
typedef fmi2Status    fmi2GetDirectionalDerivativeTYPE(fmi2Component c, const fmi2ValueReference vUnknown[], size_t nUnknown,
                                                       const fmi2ValueReference vKnown[], size_t nKnown,
                                                       const fmi2Real dvKnown[], fmi2Real dvUnknown[]);
typedef fmi2Status    fmi2SetRealInputDerivativesTYPE(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                                                      const fmi2Integer order[], const fmi2Real value[]);
typedef fmi2Status    fmi2GetRealOutputDerivativesTYPE(fmi2Component c, const fmi2ValueReference vr[], size_t nvr,
                                                       const fmi2Integer order[], fmi2Real value[]);
typedef fmi2Status    fmi2DoStepTYPE(fmi2Component c, fmi2Real currentCommunicationPoint,
                                     fmi2Real communicationStepSize, fmi2Boolean noSetFMUStatePriorToCurrentPoint);
typedef fmi2Status    fmi2CancelStepTYPE(fmi2Component c);
typedef fmi2Status    fmi2GetStatusTYPE(fmi2Component c, const fmi2StatusKind s, fmi2Status *value);
typedef fmi2Status    fmi2GetRealStatusTYPE(fmi2Component c, const fmi2StatusKind s, fmi2Real *value);
typedef fmi2Status    fmi2GetIntegerStatusTYPE(fmi2Component c, const fmi2StatusKind s, fmi2Integer *value);
typedef fmi2Status    fmi2GetBooleanStatusTYPE(fmi2Component c, const fmi2StatusKind s, fmi2Boolean *value);
typedef fmi2Status    fmi2GetStringStatusTYPE(fmi2Component c, const fmi2StatusKind s, fmi2String *value);

#ifdef __cplusplus
}
#endif

#endif /* TF_FMI2_H */
