#include "odr.hpp"

double odr_a() { return odr_map(); }
