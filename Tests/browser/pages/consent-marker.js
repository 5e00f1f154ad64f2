window.siteRan.push("marketing-src");
