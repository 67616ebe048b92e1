# mlr::eigen, mlr::xtensor, mlr::dlpack, mlr::torch: each an INTERFACE target linking mlr::mlr
# and its library, defined when that library is found. Each has its own export set, so that an
# installed mlr needs only the libraries of the components a consumer asks for.
include(${CMAKE_CURRENT_LIST_DIR}/mlrDependencies.cmake)

set(MLR_AVAILABLE_COMPONENTS "")
foreach(component IN LISTS MLR_COMPONENTS)
  if(component STREQUAL "torch" AND NOT MLR_WITH_TORCH)
    continue()
  endif()
  mlr_find_dependency(${component})
  if(mlr_dependency_${component})
    add_library(mlr_${component} INTERFACE)
    add_library(mlr::${component} ALIAS mlr_${component})
    set_target_properties(mlr_${component} PROPERTIES EXPORT_NAME ${component})
    target_link_libraries(mlr_${component} INTERFACE mlr ${mlr_dependency_${component}})
    list(APPEND MLR_AVAILABLE_COMPONENTS ${component})
  endif()
endforeach()
message(STATUS "mlr components: ${MLR_AVAILABLE_COMPONENTS}")
