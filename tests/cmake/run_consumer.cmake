# Configures, builds and runs a consumer project: cmake -P run_consumer.cmake with SOURCE_DIR,
# BINARY_DIR, PREFIX, MLR_SOURCE_DIR and GENERATOR set.
file(REMOVE_RECURSE ${BINARY_DIR})
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed (${result}): ${ARGV}")
  endif()
endfunction()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR} -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${PREFIX} -DMLR_SOURCE_DIR=${MLR_SOURCE_DIR})
run(${CMAKE_COMMAND} --build ${BINARY_DIR})
run(${BINARY_DIR}/consumer)
