# equivs control file (built by scripts/install-deps with `equivs-build`): a local metapackage
# that satisfies libphonenumber-dev's unversioned dependency on libboost-thread-dev.
#
# Debian 12's libphonenumber-dev Depends on libboost-thread-dev, which boost-defaults resolves to
# Boost 1.74; its -dev packages conflict with the libboost1.81-dev Switchyard builds with, so
# apt cannot install both. Switchyard does not need Boost.Thread for libphonenumber: the headers
# include Boost only when I18N_PHONENUMBERS_USE_BOOST is defined (we never define it), and the
# runtime library libphonenumber8 links abseil, protobuf and ICU, not Boost.
Section: misc
Priority: optional
Standards-Version: 4.6.2

Package: switchyard-boost-thread-dev-shim
Version: 1.0
Maintainer: Switchyard maintainers <switchyard@localhost>
Provides: libboost-thread-dev
Architecture: all
Description: Switchyard: stands in for libboost-thread-dev (Boost 1.74) beside Boost 1.81
 Lets Debian 12's libphonenumber-dev install beside libboost1.81-dev. libphonenumber's headers
 need Boost only with I18N_PHONENUMBERS_USE_BOOST defined, and its runtime library does not
 link Boost at all, so no Boost.Thread is needed.
