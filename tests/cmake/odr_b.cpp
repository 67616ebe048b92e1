#include "odr.hpp"

double odr_b() { return odr_map(); }
