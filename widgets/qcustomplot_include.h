#pragma once

// qcustomplot.h is written with Qt's keyword macros (signals, slots, foreach), which this project
// turns off (QT_NO_KEYWORDS) because `slots` breaks LibTorch's headers. Define them for this one
// header only; include it after any LibTorch header.
#include <QtGlobal>
#define signals Q_SIGNALS
#define slots Q_SLOTS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef slots
#undef foreach
