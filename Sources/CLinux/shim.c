// Header-only module; SwiftPM wants a source file in every C target.
#include "CLinux.h"
