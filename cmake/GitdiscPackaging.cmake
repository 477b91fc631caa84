# Install rules and CPack DEB packages (docs/daemon.md "Packages"):
#   gitdisc        the controller: /usr/bin/gitdisc, the systemd unit of
#                  `gitdisc serve`, an example /etc/gitdisc/config.yaml
#   gitdisc-agent  the static in-guest agent: /usr/sbin/gitdisc-agent, its
#                  systemd unit and udev rule
# Build both with:  cmake --build B --target gitdisc gitdisc-agent && (cd B && cpack -G DEB)
include(GNUInstallDirs)
# `install`/`cpack` do not build `all` first (that is every test and bench on
# a slow shared machine): build the two packaged targets, then run cpack.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

install(TARGETS gitdisc RUNTIME DESTINATION bin COMPONENT controller)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/gitdisc.service
        DESTINATION lib/systemd/system COMPONENT controller)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/config.example.yaml
        DESTINATION share/doc/gitdisc COMPONENT controller)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/config.example.yaml
        DESTINATION /etc/gitdisc RENAME config.yaml COMPONENT controller)
foreach(doc daemon.md)
  if(EXISTS ${PROJECT_SOURCE_DIR}/docs/${doc})
    install(FILES ${PROJECT_SOURCE_DIR}/docs/${doc} DESTINATION share/doc/gitdisc
            COMPONENT controller)
  endif()
endforeach()

set(gitdisc_components controller)
if(TARGET gitdisc-agent)
  install(TARGETS gitdisc-agent RUNTIME DESTINATION sbin COMPONENT agent)
  install(FILES ${PROJECT_SOURCE_DIR}/guest/gitdisc-agent.service
          DESTINATION lib/systemd/system COMPONENT agent)
  install(FILES ${PROJECT_SOURCE_DIR}/guest/70-gitdisc-agent.rules
          DESTINATION lib/udev/rules.d COMPONENT agent)
  if(EXISTS ${PROJECT_SOURCE_DIR}/docs/agent.md)
    install(FILES ${PROJECT_SOURCE_DIR}/docs/agent.md DESTINATION share/doc/gitdisc-agent
            COMPONENT agent)
  endif()
  list(APPEND gitdisc_components agent)
endif()

set(CPACK_PACKAGE_NAME gitdisc)
set(CPACK_PACKAGE_VENDOR "gitdisc")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "gitdisc maintainers <maintainers@gitdisc.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "GitOps software delivery to VMs on hot-inserted read-only discs")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL ${gitdisc_components})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING IGNORE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)

set(CPACK_DEBIAN_CONTROLLER_PACKAGE_NAME gitdisc)
set(CPACK_COMPONENT_CONTROLLER_DESCRIPTION
    "gitdisc controller: reconcile VMs to a Git branch (CLI and daemon)\n"
    "Reads YAML specs from Git, packs missing payloads into a content-addressed ISO,\n"
    "hot-inserts it into each VM's CD-ROM drive and lets the in-guest agent apply it.")
set(CPACK_DEBIAN_CONTROLLER_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_CONTROLLER_PACKAGE_DEPENDS "adduser, git")
# Recommends, not Depends: a controller that reaches only remote hosts
# (qemu+ssh://, vsphere://) needs no local libvirt daemon. apt installs
# recommends by default, and then postinst adds gitdisc to its libvirt group.
# ssh-keygen and gpg check signed commits (source.verify); without them
# verification refuses every commit.
set(CPACK_DEBIAN_CONTROLLER_PACKAGE_RECOMMENDS "libvirt-daemon-system, openssh-client, gpg")
set(CPACK_DEBIAN_CONTROLLER_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/deb/controller/postinst
    ${PROJECT_SOURCE_DIR}/packaging/deb/controller/conffiles)
set(CPACK_DEBIAN_CONTROLLER_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME gitdisc-agent)
set(CPACK_COMPONENT_AGENT_DESCRIPTION
    "gitdisc agent: applies gitdisc payloads inside a VM\n"
    "Static binary controlled by the host over the virtio-serial port org.gitdisc.agent.0;\n"
    "never uses the guest's network.")
set(CPACK_DEBIAN_AGENT_PACKAGE_SHLIBDEPS OFF)  # statically linked
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/deb/agent/postinst)
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
